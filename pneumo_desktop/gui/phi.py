"""What may be shown about a file and its patient, with hide-PHI on or off. Qt-free.

File names count as PHI too (folders and files are often named after patients), so with hide-PHI on a
file is named by its position and the start of its sha256, which the report and audit log also carry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pneumo_desktop.core.image import PHI_KEYS, without_phi

HIDDEN = "PHI hidden"
_PATIENT_FIELDS = (
    ("patient_name", "{}"), ("patient_id", "ID {}"), ("birth_date", "DOB {}"), ("sex", "{}"), ("age", "age {}"),
)
_STUDY_FIELDS = (
    ("study_date", "Study {}"), ("accession_number", "Acc {}"), ("institution", "{}"),
    ("modality", "{}"), ("view_position", "{}"), ("body_part", "{}"),
)


def file_label(path: Path | str, file_sha256: str | None, hide_phi: bool, index: int | None = None) -> str:
    if not hide_phi:
        return Path(path).name
    parts = [f"Image {index + 1}"] if index is not None else ["Image"]
    if file_sha256:
        parts.append(f"sha256 {file_sha256[:12]}")
    return " · ".join(parts)


def _age(text: str) -> str:
    """A DICOM AS "062Y" as "62 y"; a bare number (a common non-conformant value) as years too."""
    text = text.strip()
    units = {"D": "d", "W": "w", "M": "mo", "Y": "y"}
    if text[:-1].isdigit() and text[-1:].upper() in units:
        return f"{int(text[:-1])} {units[text[-1].upper()]}"
    return f"{int(text)} y" if text.isdigit() else text


def person_name(value: Any) -> str:
    """A DICOM person name as people write it: "DOE^JANE^^DR" → "DOE, JANE DR" (not the raw carets)."""
    parts = [p.strip() for p in str(value or "").split("^")]
    family, given = parts[0], " ".join(p for p in parts[1:] if p)
    return f"{family}, {given}" if family and given else family or given


def dicom_date(value: Any) -> str:
    """A DICOM DA "20240102" as 2024-01-02; anything else as it is."""
    text = str(value or "").strip()
    return f"{text[:4]}-{text[4:6]}-{text[6:]}" if len(text) == 8 and text.isdigit() else text


def row_label(metadata: dict[str, Any] | None, hide_phi: bool) -> str:
    """A film as a reader recognises it in a list: patient (not with hide-PHI), modality and body part, study
    date, series and instance number ("DOE, JANE · CR CHEST · 2024-01-02 · S2 I1"). Empty without a header."""
    if not metadata:
        return ""
    study = " ".join(str(metadata[k]).strip() for k in ("modality", "body_part") if metadata.get(k))
    numbers = " ".join(f"{letter}{metadata[k]}" for letter, k in (("S", "series_number"), ("I", "instance_number"))
                       if metadata.get(k) is not None)
    parts = [study, dicom_date(metadata.get("study_date")), numbers]
    if not hide_phi:
        parts.insert(0, person_name(metadata.get("patient_name")))
    return " · ".join(p for p in parts if p)


def film_identity(path: Path | str, metadata: dict[str, Any] | None, file_sha256: str | None, hide_phi: bool) -> str:
    """The film a command acts on, for its confirmation: patient and study from the header (the patient masked
    with hide-PHI), and the file's name or, with hide-PHI, its hash."""
    label = row_label(metadata, hide_phi)
    name = file_label(path, file_sha256, hide_phi)
    return f"{label} ({name})" if label else name


def visible_metadata(metadata: dict[str, Any], hide_phi: bool) -> dict[str, Any]:
    return without_phi(metadata) if hide_phi else dict(metadata)


def _line(metadata: dict[str, Any], fields: tuple[tuple[str, str], ...]) -> str:
    values = []
    for key, template in fields:
        value = metadata.get(key)
        if value not in (None, ""):
            if key == "patient_name":
                value = person_name(value)
            elif key in ("birth_date", "study_date"):
                value = dicom_date(value)
            elif key == "age":
                value = _age(str(value))
            values.append(template.format(value))
    return " · ".join(values)


def patient_lines(metadata: dict[str, Any], hide_phi: bool) -> list[str]:
    """The overlay's top-right patient and study lines (RadiAnt's corner)."""
    shown = visible_metadata(metadata, hide_phi)
    lines = [_line(shown, _PATIENT_FIELDS), _line(shown, _STUDY_FIELDS)]
    if hide_phi and any(metadata.get(k) not in (None, "") for k in PHI_KEYS):
        lines.append(HIDDEN)
    return [line for line in lines if line]


def scrub(text: str, path: Path | str | None, hide_phi: bool) -> str:
    """``text`` without the file's path or name when hide-PHI is on (error messages quote the file name)."""
    if not hide_phi or not text or path is None:
        return text
    for token in (str(path), Path(path).name):
        if token:
            text = text.replace(token, "the file")
    return text
