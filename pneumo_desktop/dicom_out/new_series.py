"""The identity of each object written: a new series and instance in the source's study, and who made it."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.uid import generate_uid

MANUFACTURER = "pneumo_desktop"
# UTF-8 for every object, whatever the source used: names are decoded from the source's character set and
# re-encoded, our own texts (warnings quoting decoder notes) may hold any character, and highdicom refuses
# some real multi-valued sets (a Japanese header's "\ISO 2022 IR 87").
CHARACTER_SET = "ISO_IR 192"
# High numbers keep the results after the acquired series in a viewer's list, where AI results usually sit.
_SERIES = {
    "pdf": (9901, "Pneumonia probability report (PDF) - assistive, not diagnostic"),
    "sr": (9902, "Pneumonia probability (SR) - assistive, not diagnostic"),
    "sc": (9903, "Heatmap - DERIVED, NOT FOR DIAGNOSIS"),
}


@dataclass(frozen=True)
class NewSeries:
    number: int
    description: str
    series_uid: str = field(default_factory=generate_uid)
    sop_instance_uid: str = field(default_factory=generate_uid)


def new_series(kind: str) -> NewSeries:
    """Fresh UIDs for one object of ``kind`` ("pdf", "sr" or "sc"): never reused, so a second export of the
    same film adds results instead of replacing the first in the PACS."""
    number, description = _SERIES[kind]
    return NewSeries(number, description)
