"""PDF reports (single image, batch summary). Headless: never imports Qt, so the CLI can make them."""

from pneumo_desktop.report.batch import (
    BatchEntry,
    suggested_batch_report_name,
    write_batch_report,
)
from pneumo_desktop.report.errors import ReportError
from pneumo_desktop.report.single import suggested_report_name, write_single_report

__all__ = [
    "BatchEntry", "ReportError", "suggested_batch_report_name", "suggested_report_name",
    "write_batch_report", "write_single_report",
]
