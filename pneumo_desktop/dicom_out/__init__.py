"""Results as DICOM (Encapsulated PDF, Comprehensive SR, heatmap Secondary Capture) for a scored DICOM image.
Headless: never imports Qt, so the CLI writes them and the window calls the same function.

The checks (``refusal``, ``check_targets``, ``dicom_result_paths``) import nothing heavy; ``export_dicom_results``
and ``DicomResults`` load highdicom (0.4 s) only when first used, so the window's checks after every result
never stall the GUI thread on that import.
"""

from typing import TYPE_CHECKING, Any

from pneumo_desktop.dicom_out.errors import DicomExportError
from pneumo_desktop.dicom_out.refusal import refusal
from pneumo_desktop.dicom_out.targets import check_targets, dicom_result_paths

if TYPE_CHECKING:
    from pneumo_desktop.dicom_out.export import DicomResults, export_dicom_results

__all__ = ["DicomExportError", "DicomResults", "check_targets", "dicom_result_paths", "export_dicom_results",
           "refusal"]


def __getattr__(name: str) -> Any:
    if name in ("DicomResults", "export_dicom_results"):
        from pneumo_desktop.dicom_out import export

        return getattr(export, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
