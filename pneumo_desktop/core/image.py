"""The loaded-image value object that every reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from pneumo_desktop.core.errors import ImageLoadError

# Refuse images whose header claims more pixels than this before decoding (decompression bombs).
# Real radiographs are at most ~4300x3500 (15 MP); 100 MP leaves room for odd scanners.
MAX_PIXELS = 100_000_000


@dataclass(frozen=True)
class WindowPreset:
    """A display window in the image's normalised [0, 1] units."""

    name: str
    center: float
    width: float


@dataclass
class LoadedImage:
    """A 2-D grayscale image ready for display and for the model.

    ``pixels`` is float32, shape (rows, cols), values in [0, 1], already in display orientation
    (EXIF applied) and with DICOM modality LUT, VOI window and MONOCHROME1 inversion applied, so that
    bright means dense for every source. The same array feeds the model.
    """

    pixels: np.ndarray
    path: Path
    kind: str  # "raster" or "dicom"
    file_sha256: str
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Extra windows besides default_window (other stored DICOM windows, the automatic one); the viewer adds
    # the default and a full-range preset itself.
    presets: list[WindowPreset] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.pixels.shape[0]), int(self.pixels.shape[1]))

    def sharing_pixels(self) -> LoadedImage:
        """A second LoadedImage over the same pixel array, with its own warnings and metadata: what scoring may
        add (the polarity warning) stays on it until the caller adopts it (pixels are never changed in place)."""
        return replace(self, warnings=list(self.warnings), metadata=dict(self.metadata))

    def adopt_warnings(self, other: LoadedImage) -> None:
        """Take over the notes another decode of the same file gained (e.g. the model's polarity warning),
        so the image on screen or in a report carries every warning about its file, each once."""
        for warning in other.warnings:
            if warning not in self.warnings:
                self.warnings.append(warning)

    @property
    def default_window(self) -> WindowPreset:
        # Pixels are already windowed into [0, 1]; "full range" shows them as they are.
        return WindowPreset("Default", 0.5, 1.0)


# Metadata keys the DICOM reader fills (raster files fill none of the patient fields).
METADATA_KEYS = (
    "patient_name", "patient_id", "issuer_of_patient_id", "birth_date", "sex", "age", "accession_number",
    "institution", "study_date", "study_time", "modality", "view_position", "body_part", "pixel_spacing", "lossy_compression",
    "photometric", "transfer_syntax", "bits_stored", "sop_class", "rows", "columns",
)
# Fields the hide-PHI toggle removes from screen, title, reports and logs.
PHI_KEYS = ("patient_name", "patient_id", "issuer_of_patient_id", "birth_date", "accession_number", "institution")


def without_phi(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metadata.items() if k not in PHI_KEYS}


def check_pixel_count(columns: int, rows: int, filename: str) -> None:
    """Raise before any pixel memory is spent when a header claims an absurd size."""
    if columns <= 0 or rows <= 0:
        raise ImageLoadError(f"the file declares an empty image ({columns}×{rows} pixels)", filename)
    if columns * rows > MAX_PIXELS:
        raise ImageLoadError(
            f"image too large: {columns}×{rows} pixels (the limit is {MAX_PIXELS // 1_000_000} megapixels)",
            filename,
        )
