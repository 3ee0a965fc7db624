"""Only values valid for their VR are copied from a source film into our objects.

Films in the wild carry values their own VR forbids (a Patient's Age "81" where AS needs "081Y", a 56-character
Accession Number in a 16-character SH, a date "1995.07.20"). highdicom copies the patient and study from the
source header, so without this check our SR, PDF and capture repeat the source's faults and fail validation
at the PACS or in a validator. An invalid value is left empty when the attribute is type 2 (present in every
object, empty when unknown) and left out otherwise; nothing is guessed ("81" could be days, months or years).
"""

from __future__ import annotations

from collections.abc import Collection

from pydicom import config
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import validate_value

# Text VRs whose values pydicom can check; binary and sequence VRs are not copied as patient or study data.
_CHECKED_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC",
                          "UI", "UR", "UT"})


def is_valid(element: DataElement) -> bool:
    """Whether every value of ``element`` is valid for its VR (length and characters, PS3.5 table 6.2-1)."""
    if element.VR not in _CHECKED_VRS or element.value is None or element.value == "":
        return True
    values = element.value if isinstance(element.value, MultiValue) else [element.value]
    try:
        for value in values:
            validate_value(element.VR, _text(value), config.RAISE)
    except (ValueError, TypeError):
        return False
    return True


def drop_invalid_values(header: Dataset, *, keep: Collection[str], type_2: Collection[str]) -> list[str]:
    """Empty (``type_2``) or remove every top-level attribute of ``header`` whose value is invalid for its VR;
    the keywords in ``keep`` are left as they are (the UIDs that file our objects with the film must match
    it, whatever they hold). Returns the keywords changed, never the values (they may identify the patient)."""
    changed: list[str] = []
    for element in list(header):
        keyword = element.keyword or str(element.tag)
        if keyword in keep or is_valid(element):
            continue
        if keyword in type_2:
            header[element.tag].value = None
        else:
            del header[element.tag]
        changed.append(keyword)
    return changed


def _text(value: object) -> str:
    # DS and IS keep the string they were read from; a PersonName prints its original components.
    original = getattr(value, "original_string", None)
    return str(original) if isinstance(original, str) else str(value)
