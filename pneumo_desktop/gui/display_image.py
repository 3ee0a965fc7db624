"""What the viewer needs besides the LoadedImage, prepared on a worker so the GUI thread only looks up."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtGui import QImage

from pneumo_desktop.core.image import LoadedImage, WindowPreset
from pneumo_desktop.gui import windowing
from pneumo_desktop.gui.dicom_units import ModalityUnits, preset_names
from pneumo_desktop.gui.qimage import gray_qimage


@dataclass
class DisplayImage:
    image: LoadedImage
    presets: list[WindowPreset] = field(default_factory=list)  # default, DICOM ones, full range
    request_id: int = 0
    # The first frame (presets[0]), drawn on the worker in the pixmap's own format, so the GUI thread's
    # QPixmap shares it instead of converting 4 MP (QImage, unlike QPixmap, may be made on any thread).
    first_frame: QImage | None = None
    first_window: tuple[float, float] | None = None  # the (center, width) it shows
    units: ModalityUnits | None = None  # W/L and values in the DICOM's units, where they can be recovered
    _levels: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def prepare(cls, image: LoadedImage, request_id: int = 0) -> DisplayImage:
        presets = [image.default_window, *image.presets, windowing.full_range(image.pixels)]
        units = None
        if image.kind == "dicom":
            presets, units = preset_names(presets, image.metadata), ModalityUnits.of(image.metadata)
        window = windowing.clamp(presets[0].center, presets[0].width)
        frame = windowing.render(image.pixels, *window)
        first_frame = gray_qimage(frame).convertToFormat(QImage.Format.Format_RGB32)
        return cls(image=image, presets=presets, request_id=request_id, first_frame=first_frame,
                   first_window=window, units=units)

    def levels(self) -> np.ndarray:
        """The 12-bit display levels every other window is drawn from (windowing.quantise), made on first use.

        Not part of ``prepare``: they are not needed to show the image, and making them there delayed it.
        The controller makes them on the image thread right after the image is shown; a window change that
        comes sooner makes them itself."""
        if self._levels is None:
            self._levels = windowing.quantise(self.image.pixels)
        return self._levels

    def value_at(self, row: int, col: int) -> float | None:
        rows, cols = self.image.shape
        if 0 <= row < rows and 0 <= col < cols:
            return float(self.image.pixels[row, col])
        return None
