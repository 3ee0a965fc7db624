"""The project's exceptions. Messages are written for a clinician, not a programmer."""

from __future__ import annotations


class PneumoError(Exception):
    """Base class; ``str(exc)`` is always a complete, user-facing sentence."""


FILE_CHANGED = "the file changed while it was being read; open it again"


class ImageLoadError(PneumoError):
    """A file could not be turned into an image (not an image, truncated, no pixel data, too large...)."""

    def __init__(self, message: str, filename: str | None = None) -> None:
        self.reason = message
        self.filename = filename
        super().__init__(f"{filename}: {message}" if filename else message)


class ModelLoadError(PneumoError):
    """The bundled model could not be loaded or failed its integrity check."""
