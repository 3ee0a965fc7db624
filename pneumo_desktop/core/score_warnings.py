"""Every warning that qualifies a score, gathered in one place, so the result panel, status bar, study list,
CSV/JSONL records and both PDF reports carry the same list. Qt-free.

Four sources, none of them a fixed list: what the decode noted on the image (multi-frame, damaged header,
window fallbacks …), whatever scoring attaches to the image or the prediction (``Prediction.warnings`` if the
predictor sets one, strings or objects with a code and a text: photometric inversion, orientation …), what
the DICOM header says about the pixels (lossy compression), and the model card's intended population checked
against the DICOM tags. A missing view or modality tag never warns (many real files lack them); only a value
that is present and outside does. A DICOM with no age at all (no Patient's Age, no birth date) does get the
population caution (issue 24: an obvious adult film without those tags got none); a raster file never carries
an age, and the model's population is stated beside every score of one already.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

_AGE_STRING = re.compile(r"^\s*(\d{1,3})\s*([DWMY])\s*$", re.IGNORECASE)
_UNIT_YEARS = {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1.0}
# The one warning that quotes patient data; hide-PHI keeps the warning and drops the value.
_AGE_WARNING = "Patient age {age} is outside the model's intended {low}-{high} years: the probability may be wrong."
_AGE_VALUE = re.compile(r"^Patient age [0-9.]+ years is outside")
AGE_UNKNOWN_WARNING = ("Age unknown (the DICOM has no Patient's Age or birth date): the model was made for ages "
                       "{low}-{high} years; check the patient's age before reading the score.")


def _date(value: Any) -> date | None:
    text = str(value or "").strip()
    if len(text) == 8 and text.isdigit():
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    return None


def age_in_years(metadata: Mapping[str, Any]) -> float | None:
    """From ``age_years`` (number), a DICOM AS string in ``age`` ("004Y", "018M"), or else the birth and
    study dates (many exports carry those but no Patient's Age)."""
    value = metadata.get("age_years")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = metadata.get("age")
    if isinstance(text, str):
        match = _AGE_STRING.match(text)
        if match:
            return int(match.group(1)) * _UNIT_YEARS[match.group(2).upper()]
    born, studied = _date(metadata.get("birth_date")), _date(metadata.get("study_date"))
    if born is not None and studied is not None and studied >= born:
        return (studied - born).days / 365.25
    return None


def population_warnings(metadata: Mapping[str, Any], population: Mapping[str, Any] | None, *,
                        hide_phi: bool = False) -> list[str]:
    """Where the DICOM says this patient or view lies outside the card's intended population."""
    population = population or {}
    warnings = []
    ages: Any = population.get("age_years")
    age = age_in_years(metadata)
    if age is not None and isinstance(ages, list | tuple) and len(ages) == 2 \
            and not float(ages[0]) <= age <= float(ages[1]):
        warnings.append(_AGE_WARNING.format(age=f"{age:.1f} years", low=ages[0], high=ages[1]))
    elif age is None and "age" in metadata and isinstance(ages, list | tuple) and len(ages) == 2:
        # "age" is a key only a DICOM header fills (empty when the tag is missing).
        warnings.append(AGE_UNKNOWN_WARNING.format(low=ages[0], high=ages[1]))
    views = [str(v).upper() for v in population.get("views") or []]
    view = str(metadata.get("view_position") or "").strip().upper()
    if view and views and view not in views:
        warnings.append(f"View {view} is not one the model was made for ({', '.join(views)}).")
    modalities = [str(m).upper() for m in population.get("modalities") or []]
    modality = str(metadata.get("modality") or "").strip().upper()
    if modality and modalities and modality not in modalities:
        warnings.append(f"Modality {modality} is not one the model was trained on ({', '.join(modalities)}).")
    return [phi_safe(w) for w in warnings] if hide_phi else warnings


def header_warnings(metadata: Mapping[str, Any]) -> list[str]:
    """What a DICOM header says that changes how far the pixels can be trusted (RadiAnt flags lossy files too)."""
    if metadata.get("lossy_compression") is True:
        return ["The DICOM pixel data were lossy-compressed: fine detail may have been lost."]
    return []


def phi_safe(warning: str) -> str:
    """The warning as hide-PHI may show it: the age warning stays, without the age."""
    return _AGE_VALUE.sub("Patient age is outside", warning)


def warning_text(item: Any) -> str:
    """A warning as people read it, whatever shape the core gave it: a sentence, or an object or mapping with a
    text (``text``/``message``/``reason``) and perhaps a ``code``."""
    if isinstance(item, str):
        return item
    get = item.get if isinstance(item, Mapping) else lambda key: getattr(item, key, None)
    for key in ("text", "message", "reason"):
        value = get(key)
        if value:
            return str(value)
    code = get("code")
    return str(code).replace("_", " ") if code else str(item)


def merged(*groups: Iterable[Any]) -> list[str]:
    """The texts of every group, in order, each once."""
    out: list[str] = []
    for group in groups:
        for item in group or ():
            text = warning_text(item).strip()
            text = text[:1].upper() + text[1:]  # decoder notes are written to follow a colon
            if text and text not in out:
                out.append(text)
    return out


def score_warnings(image: Any, prediction: Any, population: Mapping[str, Any] | None, *,
                   hide_phi: bool = False) -> list[str]:
    """All the warnings that go with this image's score (``image`` a LoadedImage, ``prediction`` a Prediction;
    either may be None)."""
    metadata = getattr(image, "metadata", None) or {}
    found = merged(
        getattr(image, "warnings", None) or (),
        getattr(prediction, "warnings", None) or (),
        header_warnings(metadata),
        population_warnings(metadata, population),
    )
    return [phi_safe(w) for w in found] if hide_phi else found
