"""Results as DICOM (Encapsulated PDF, Comprehensive SR, heatmap Secondary Capture) for a scored DICOM image.
Headless: never imports Qt, so the CLI writes them and the window calls the same function."""

from pneumo_desktop.dicom_out.errors import DicomExportError
from pneumo_desktop.dicom_out.export import (
           DicomResults,
           check_targets,
           dicom_result_paths,
           export_dicom_results,
)
from pneumo_desktop.dicom_out.source_study import refusal

__all__ = ["DicomExportError", "DicomResults", "check_targets", "dicom_result_paths", "export_dicom_results",
           "refusal"]
