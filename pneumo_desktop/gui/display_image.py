"""What the viewer needs besides the LoadedImage, prepared on a worker so the GUI thread only looks up."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtGui import QImage

from pneumo_desktop.core.image import LoadedImage, WindowPreset
from pneumo_desktop.gui import windowing
from pneumo_desktop.gui.qimage import gray_qimage


@dataclass
class DisplayImage:
    image: LoadedImage
    quantised: np.ndarray  # uint16 (rows, cols), see windowing.quantise
    presets: list[WindowPreset] = field(default_factory=list)  # default, DICOM ones, full range
    request_id: int = 0
    # The first frame, presets[0] applied: a 2k film's lookup costs ~12 ms, better spent here than on the
    # GUI thread while the image is being shown. ``rendered_window`` is the (center, width) it shows.
    rendered: np.ndarray | None = None
    rendered_window: tuple[float, float] | None = None
    # ``rendered`` already in the pixmap's own format, so the GUI thread's QPixmap shares it (a 2k film's
    # conversion is ~3 ms). QImage, unlike QPixmap, may be made on any thread.
    first_frame: QImage | None = None

    @classmethod
    def prepare(cls, image: LoadedImage, request_id: int = 0) -> DisplayImage:
        quantised = windowing.quantise(image.pixels)
        presets = [image.default_window, *image.presets, windowing.full_range(quantised)]
        window = windowing.clamp(presets[0].center, presets[0].width)
        rendered = windowing.apply(quantised, windowing.lookup_table(*window))
        first_frame = gray_qimage(rendered).convertToFormat(QImage.Format.Format_RGB32)
        return cls(image=image, quantised=quantised, presets=presets, request_id=request_id,
                   rendered=rendered, rendered_window=window, first_frame=first_frame)

    def value_at(self, row: int, col: int) -> float | None:
        rows, cols = self.image.shape
        if 0 <= row < rows and 0 <= col < cols:
            return float(self.image.pixels[row, col])
        return None
