"""numpy -> QImage without copying on the hot path; the array is kept alive on the QImage (pyqtgraph's rule).

QImage may be built on any thread; only QPixmap is GUI-thread-only.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def gray_qimage(pixels: np.ndarray) -> QImage:
    """(H, W) uint8 -> Format_Grayscale8 sharing ``pixels``' memory."""
    array = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = array.shape
    image = QImage(array.data, width, height, array.strides[0], QImage.Format.Format_Grayscale8)
    image._keep_alive = array  # type: ignore[attr-defined]  # QImage does not own the buffer
    return image


def rgba_qimage(pixels: np.ndarray) -> QImage:
    """(H, W, 4) uint8 RGBA (straight alpha) -> Format_RGBA8888 sharing ``pixels``' memory."""
    array = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = array.shape[:2]
    image = QImage(array.data, width, height, array.strides[0], QImage.Format.Format_RGBA8888)
    image._keep_alive = array  # type: ignore[attr-defined]
    return image
