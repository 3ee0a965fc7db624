"""Where the DICOM results of a scored file go, and whether they may be written there. Light (no pydicom or
highdicom): the window and the CLI check targets before any work, the window on the GUI thread."""

from __future__ import annotations

import os
from pathlib import Path

from pneumo_desktop.core.collect import is_inside
from pneumo_desktop.dicom_out.errors import DicomExportError

SUFFIXES = {"pdf": "_pneumonia_report_pdf.dcm", "sr": "_pneumonia_sr.dcm", "sc": "_pneumonia_heatmap_sc.dcm"}
_NAME_LIMIT = 80


def dicom_result_paths(image_path: Path, out_dir: Path) -> dict[str, Path]:
    """Where each object goes: named after the scored file, so results of several films can share a folder."""
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in image_path.stem)[:_NAME_LIMIT]
    stem = stem.strip("._") or "image"
    return {kind: Path(out_dir) / f"{stem}{suffix}" for kind, suffix in SUFFIXES.items()}


def check_targets(image_path: Path, out_dir: Path, *, overwrite: bool) -> None:
    """DicomExportError unless every target can be written: cheap, so callers run it before scoring."""
    out_dir = Path(out_dir)
    if not os.path.isdir(out_dir):
        raise DicomExportError(f"the DICOM folder {out_dir.name or out_dir} does not exist or is not a folder")
    if is_inside(out_dir, {image_path.parent.resolve()}):
        raise DicomExportError("the DICOM folder is the scored file's own folder or inside it; results are "
                               "never written into an input folder (choose another folder)")
    existing = [p for p in dicom_result_paths(image_path, out_dir).values() if os.path.lexists(p)]
    if existing and not overwrite:
        raise DicomExportError(f"{existing[0].name} already exists; nothing was written (use --force to "
                               "overwrite the DICOM results)")
