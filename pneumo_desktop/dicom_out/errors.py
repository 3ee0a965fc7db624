"""Why results could not be written as DICOM, as a sentence for the user."""

from __future__ import annotations

from pneumo_desktop.core.errors import PneumoError


class DicomExportError(PneumoError):
    """No DICOM result was written (hide-PHI on, a raster input, a source without a study, an existing file)."""

    def __init__(self, message: str, filename: str | None = None) -> None:
        self.reason = message
        super().__init__(f"{filename}: {message}" if filename else message)
