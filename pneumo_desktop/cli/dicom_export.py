"""``report --dicom OUT_DIR``: the command's side of results as DICOM (refusals, messages, exit codes). The
objects themselves are made in pneumo_desktop.dicom_out, which the window calls as well.

dicom_out is imported only when --dicom is given: highdicom takes a while to import and plain reports do
not need it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pneumo_desktop.cli import EXIT_OK, EXIT_USAGE
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.prediction import Prediction

log = logging.getLogger(__name__)


def allowed_before_load(source: Path, dicom_dir: Path, hide_phi: bool, force: bool) -> bool:
    """The refusals that need no decoding (hide-PHI, the folder, existing files), so they come at once."""
    from pneumo_desktop.dicom_out import DicomExportError, check_targets

    if hide_phi:
        log.error("--dicom cannot be used with --hide-phi: a DICOM result must carry the patient's identity for "
                  "a PACS to file it with the patient's study; nothing was written")
        return False
    try:
        check_targets(source, dicom_dir, overwrite=force)
    except DicomExportError as exc:
        log.error("%s", exc)
        return False
    return True


def allowed_for(image: LoadedImage) -> bool:
    """Only a DICOM has a study to attach results to; a raster input is refused before it is scored."""
    from pneumo_desktop.dicom_out import refusal

    reason = refusal(image, hide_phi=False)
    if reason is not None:
        log.error("%s; nothing was written (run without --dicom for the PDF report)", reason)
        return False
    return True


def write(dicom_dir: Path, pdf_path: Path, image: LoadedImage, prediction: Prediction, card: ModelCard,
          force: bool) -> int:
    """The DICOM results, wrapping the PDF just written at ``pdf_path`` (the same report, byte for byte)."""
    from pneumo_desktop.dicom_out import DicomExportError, export_dicom_results

    try:
        results = export_dicom_results(dicom_dir, image, prediction, card, pdf=pdf_path.read_bytes(),
                                       overwrite=force)
    except (DicomExportError, OSError) as exc:
        log.error("%s (the PDF report was written; no DICOM result was)", exc)
        return EXIT_USAGE
    for path in results.paths:
        log.info("wrote %s", path.absolute())
    for note in results.skipped:
        log.info("not written: %s", note)
    return EXIT_OK
