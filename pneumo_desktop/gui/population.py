"""Does the DICOM say this patient or view lies outside the model card's intended population? Qt-free.

A missing tag never warns (many real files lack them); only a value that is present and outside does.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

_AGE_STRING = re.compile(r"^\s*(\d{1,3})\s*([DWMY])\s*$", re.IGNORECASE)
_UNIT_YEARS = {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1.0}


def _date(value: Any) -> date | None:
    text = str(value or "").strip()
    if len(text) == 8 and text.isdigit():
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    return None


def age_in_years(metadata: dict[str, Any]) -> float | None:
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


def population_warnings(metadata: dict[str, Any], population: dict[str, Any]) -> list[str]:
    warnings = []
    ages = population.get("age_years")
    age = age_in_years(metadata)
    if age is not None and isinstance(ages, list | tuple) and len(ages) == 2:
        low, high = float(ages[0]), float(ages[1])
        if not low <= age <= high:
            warnings.append(
                f"Patient age {age:.1f} years is outside the model's intended {ages[0]}-{ages[1]} years: "
                "the probability may be wrong."
            )
    views = [str(v).upper() for v in population.get("views") or []]
    view = str(metadata.get("view_position") or "").strip().upper()
    if view and views and view not in views:
        warnings.append(f"View {view} is not one the model was made for ({', '.join(views)}).")
    modalities = [str(m).upper() for m in population.get("modalities") or []]
    modality = str(metadata.get("modality") or "").strip().upper()
    if modality and modalities and modality not in modalities:
        warnings.append(f"Modality {modality} is not one the model was trained on ({', '.join(modalities)}).")
    return warnings
