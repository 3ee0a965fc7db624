"""How a film that arrives over DICOM (received by the listener, or retrieved from a PACS) is named in the inbox.

The study list shows file names, and a SOP Instance UID (64 digits and dots) tells a clinician nothing. The name
says what the film is without any patient data: ``<modality>-S<series>-I<instance>-<10 hex>.dcm``, e.g.
``DX-S2-I1-4f0c2a9be1.dcm``. The hex part is a digest of the SOP Instance UID, so two films never share a name
and the same instance sent again replaces its own file.
"""

from __future__ import annotations

import hashlib
import re

from pydicom import Dataset

# Digits separated by single dots (leading zeros in a component are tolerated: some modalities write them).
SOP_INSTANCE_UID = re.compile(r"^(?=.{1,64}$)[0-9]+(\.[0-9]+)*$")


def received_file_name(ds: Dataset) -> str | None:
    """The inbox name for ``ds``; None when its SOP Instance UID is not a valid UID (the film is refused)."""
    uid = str(_tag(ds, "SOPInstanceUID") or "")
    if not SOP_INSTANCE_UID.fullmatch(uid):
        return None
    modality = re.sub(r"[^A-Z0-9]", "", str(_tag(ds, "Modality") or "").upper())[:8] or "DICOM"
    parts = [modality]
    for prefix, keyword in (("S", "SeriesNumber"), ("I", "InstanceNumber")):
        number = _number(_tag(ds, keyword))
        if number is not None:
            parts.append(f"{prefix}{number}")
    parts.append(hashlib.sha256(uid.encode("ascii")).hexdigest()[:10])
    return "-".join(parts) + ".dcm"


def _tag(ds: Dataset, keyword: str) -> object:
    try:
        return ds.get(keyword)
    except Exception:  # library boundary: a malformed received value raises many types; the name does without
        return None


def _number(value: object) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 10**8 else None
