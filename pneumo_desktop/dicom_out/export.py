"""Results as DICOM for one scored DICOM image: the PDF report, a Comprehensive SR and a heatmap Secondary
Capture, each in its own new series of the source's study, so a PACS files them with the patient's film.

``export_dicom_results`` is the one entry point for the CLI and the window. It writes all or nothing: every
target is checked first, and a failure part-way removes what this call already wrote.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset

from pneumo_desktop.core.atomic import atomic_write_bytes
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.library_warnings import library_warnings_logged
from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.core.score_warnings import score_warnings
from pneumo_desktop.dicom_out.encapsulated_pdf import build_encapsulated_pdf
from pneumo_desktop.dicom_out.errors import DicomExportError
from pneumo_desktop.dicom_out.heatmap_capture import build_heatmap_capture
from pneumo_desktop.dicom_out.new_series import new_series
from pneumo_desktop.dicom_out.refusal import refusal
from pneumo_desktop.dicom_out.source_study import SourceStudy, read_source_study
from pneumo_desktop.dicom_out.structured_report import build_structured_report
from pneumo_desktop.dicom_out.targets import check_targets, dicom_result_paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DicomResults:
    """What was written; ``skipped`` says why an object was left out (the capture of an unscored image)."""

    paths: list[Path]
    skipped: list[str]


def export_dicom_results(out_dir: Path, image: LoadedImage, prediction: Prediction, card: ModelCard, *,
                         hide_phi: bool = False, pdf: bytes | None = None, overwrite: bool = False,
                         warnings: Sequence[str] | None = None) -> DicomResults:
    """Write the results of ``image`` (a scored DICOM) into ``out_dir``; DicomExportError says why not.

    ``pdf`` is the single-image report already made for this result (made here when None). ``warnings``
    defaults to the record's warnings for this image and prediction.
    """
    reason = refusal(image, hide_phi=hide_phi)
    if reason is not None:
        raise DicomExportError(reason)
    check_targets(image.path, out_dir, overwrite=overwrite)
    source = read_source_study(image)
    if warnings is None:
        warnings = score_warnings(image, prediction, card.intended_population)
    if pdf is None:
        pdf = _render_pdf(image, prediction, card)
    try:
        with library_warnings_logged(image.path.name):
            datasets = _build(image, prediction, card, list(warnings), source, pdf)
    except (ValueError, KeyError, AttributeError, TypeError) as exc:  # highdicom validates as it builds
        log.debug("DICOM result not built", exc_info=True)
        raise DicomExportError(f"the DICOM results could not be built from this file's header ({exc})",
                               image.path.name) from exc
    targets = dicom_result_paths(image.path, out_dir)
    written: list[Path] = []
    try:
        for kind, dataset in datasets.items():
            atomic_write_bytes(targets[kind], _encoded(dataset), overwrite=overwrite)
            written.append(targets[kind])
    except OSError as exc:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise DicomExportError(f"the DICOM results could not be saved ({exc.strerror or exc}); none were kept") \
            from exc
    skipped = [] if "sc" in datasets else ["heatmap capture: the image was not scored, so it has no heatmap"]
    return DicomResults(written, skipped)


def _build(image: LoadedImage, prediction: Prediction, card: ModelCard, warnings: list[str],
           source: SourceStudy, pdf: bytes) -> dict[str, Dataset]:
    datasets: dict[str, Dataset] = {
        "pdf": build_encapsulated_pdf(pdf, source, new_series("pdf")),
        "sr": build_structured_report(prediction, card, warnings, source, new_series("sr")),
    }
    capture = build_heatmap_capture(image, prediction, source, new_series("sc"))
    if capture is not None:
        datasets["sc"] = capture
    return datasets


def _encoded(dataset: Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _render_pdf(image: LoadedImage, prediction: Prediction, card: ModelCard) -> bytes:
    from pneumo_desktop.report.single import write_single_report

    with tempfile.TemporaryDirectory(prefix="pneumo_dicom_") as folder:
        path = write_single_report(Path(folder) / "report.pdf", image, prediction, card, hide_phi=False)
        return path.read_bytes()
