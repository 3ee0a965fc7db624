"""What the viewer needs besides the LoadedImage, prepared on a worker so the GUI thread only looks up."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pneumo_desktop.core.image import LoadedImage, WindowPreset
from pneumo_desktop.gui import windowing


@dataclass
class DisplayImage:
    image: LoadedImage
    quantised: np.ndarray  # uint16 (rows, cols), see windowing.quantise
    presets: list[WindowPreset] = field(default_factory=list)  # default, DICOM ones, full range
    request_id: int = 0

    @classmethod
    def prepare(cls, image: LoadedImage, request_id: int = 0) -> DisplayImage:
        presets = [image.default_window, *image.presets, windowing.full_range(image.pixels)]
        return cls(image=image, quantised=windowing.quantise(image.pixels), presets=presets,
                   request_id=request_id)

    def value_at(self, row: int, col: int) -> float | None:
        rows, cols = self.image.shape
        if 0 <= row < rows and 0 <= col < cols:
            return float(self.image.pixels[row, col])
        return None
