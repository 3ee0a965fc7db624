"""Grad-CAM as an RGBA overlay and its colour legend, both from core.heatmap_render's one colour map.

The overlay's alpha follows the heatmap value, exactly like the PDF's blend: regions that barely moved
the score stay clear, so the anatomy under them stays readable. The slider scales the whole item.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from pneumo_desktop.core.heatmap_render import COLOUR_MAP_NAME, colour_lut, score_strength, to_gray_uint8
from pneumo_desktop.core.prediction import Prediction

LEGEND_CAPTION = "Regions that most influenced the score (not lesions); faint when the score is low"


# Row i: the colour of heatmap value i / 255 with alpha i, read as one 32-bit word, so colouring is one
# lookup per pixel (indexing the (256, 3) table directly took ~10 ms for a 512-px overlay).
_RGBA_WORDS = (
    np.concatenate([colour_lut(), np.arange(256, dtype=np.uint8)[:, None]], axis=1).view(np.uint32).reshape(256)
)


OVERLAY_MAX_SIDE = 512


def overlay_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """The overlay's own resolution: the CAM is 7x7, so colouring 4 M pixels of a 2k film bought nothing but
    ~180 ms; the view scales this pixmap onto the image's exact pixel grid (ImageView.set_heatmap)."""
    rows, cols = shape
    scale = min(1.0, OVERLAY_MAX_SIDE / max(rows, cols))
    return max(1, round(rows * scale)), max(1, round(cols * scale))


def overlay_for(prediction: Prediction, shape: tuple[int, int]) -> np.ndarray | None:
    """The RGBA overlay of a prediction for an image of ``shape``, faint when the score is low."""
    heat = prediction.heatmap(overlay_shape(shape))
    if heat is None:
        return None
    return heatmap_rgba(heat * score_strength(prediction.probability, prediction.threshold))


def heatmap_rgba(heatmap: np.ndarray) -> np.ndarray:
    """(H, W) float heatmap in [0, 1] -> (H, W, 4) uint8 RGBA with alpha = value (NaN and outliers clipped)."""
    levels = to_gray_uint8(heatmap)
    return np.take(_RGBA_WORDS, levels).view(np.uint8).reshape(*levels.shape, 4)


class LegendBar(QWidget):
    """A horizontal colour bar from "less" to "more" influence."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lut = colour_lut()
        self.setAccessibleName("Heatmap colour legend")
        self.setToolTip(
            f"Colour map: {COLOUR_MAP_NAME} (readable with colour-vision deficiencies).\n"
            "Left: little influence on the score (nearly transparent). Right: most influence."
        )
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        height = self.fontMetrics().height() + 14
        return QSize(200, height)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(120, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = self.fontMetrics()
        less, more = "less", "more"
        left_w, right_w = metrics.horizontalAdvance(less) + 6, metrics.horizontalAdvance(more) + 6
        bar = QRectF(left_w, 4, max(self.width() - left_w - right_w, 10), self.height() - 8)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        steps = 16
        for i in range(steps + 1):
            r, g, b = (int(v) for v in self._lut[round(i * 255 / steps)])
            gradient.setColorAt(i / steps, QColor(r, g, b))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(gradient)
        painter.drawRoundedRect(bar, 3, 3)
        painter.setPen(self.palette().windowText().color())
        text_rect = QRectF(0, 0, left_w, self.height())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, less)
        text_rect = QRectF(bar.right() + 6, 0, right_w, self.height())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, more)
        painter.end()
