"""Reading our TID 1500 SR back in tests: every content item by concept meaning, wherever it sits in the tree,
from a pydicom dataset or from Orthanc's JSON of the stored object."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pydicom

from pneumo_desktop.dicom_out.structured_report import FINGERPRINT_PARAMETER


def _walk_json(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from _walk_json(item.get("ContentSequence", []))


def json_items(tags: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Orthanc's simplified JSON of an SR: meaning -> every item of that concept, depth first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for item in _walk_json(tags["ContentSequence"]):
        out.setdefault(item["ConceptNameCodeSequence"][0]["CodeMeaning"], []).append(item)
    return out


def json_probability(tags: dict[str, Any]) -> float:
    (item,) = json_items(tags)["Probability of pneumonia"]
    return float(item["MeasuredValueSequence"][0]["NumericValue"])


def json_fingerprints(tags: dict[str, Any]) -> set[str]:
    """The fingerprints the SR's algorithm identifications (TID 4019) name."""
    return {item["TextValue"].removeprefix(FINGERPRINT_PARAMETER)
            for item in json_items(tags).get("Algorithm Parameters", [])
            if item["TextValue"].startswith(FINGERPRINT_PARAMETER)}


def dataset_values(sr: pydicom.Dataset) -> dict[str, list[Any]]:
    """meaning -> values (float for NUM, str for TEXT, the code value for CODE), depth first."""
    out: dict[str, list[Any]] = {}

    def walk(items: Any) -> None:
        for item in items:
            meaning = item.ConceptNameCodeSequence[0].CodeMeaning
            if item.ValueType == "NUM":
                out.setdefault(meaning, []).append(float(item.MeasuredValueSequence[0].NumericValue))
            elif item.ValueType == "TEXT":
                out.setdefault(meaning, []).append(str(item.TextValue))
            elif item.ValueType == "CODE":
                out.setdefault(meaning, []).append(str(item.ConceptCodeSequence[0].CodeValue))
            walk(item.get("ContentSequence", []))

    walk(sr.ContentSequence)
    return out
