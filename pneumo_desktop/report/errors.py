"""Why a report could not be written, as a sentence for the user."""

from __future__ import annotations

from pneumo_desktop.core.errors import PneumoError


class ReportError(PneumoError):
    """The PDF could not be produced or saved (missing fonts, existing file, unwritable folder)."""
