"""The four-corner text overlay on the image (RadiAnt's layout): labels floating on the view's viewport.

Top left: file and image facts. Top right: patient/study line (PHI filtered by the caller). Bottom left:
pixel value under the cursor and the window. Bottom right: zoom and orientation. Labels ignore the mouse,
so dragging on the image is never intercepted. They are children of the view, not of its viewport: a
scrolling viewport moves its children along with the picture.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QGraphicsDropShadowEffect, QLabel

from pneumo_desktop.gui.overlay_text import corner_widths, fit_lines

CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")
_ALIGN = {
    "top_left": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
    "top_right": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
    "bottom_left": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
    "bottom_right": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
}
MARGIN = 8
# Lines that say the pixels cannot be fully trusted: F12 (overlay text off) never hides them.
ALWAYS_SHOWN = ("LOSSY COMPRESSED",)
BACKING_PAD = 10  # the backing's horizontal padding, both sides, with a pixel to spare


class CornerOverlay(QObject):
    def __init__(self, view: QAbstractScrollArea) -> None:
        super().__init__(view)
        self._view = view
        self._viewport = view.viewport()
        self.labels: dict[str, QLabel] = {}
        for corner in CORNERS:
            label = QLabel(view)
            label.setObjectName(f"overlay_{corner}")
            label.setAccessibleName(f"Image overlay, {corner.replace('_', ' ')}")
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setAlignment(_ALIGN[corner])
            # Light text with a dark halo on a translucent dark backing stays legible on lung fields and on bright
            # bone or a white collimator border alike.
            label.setStyleSheet("color: #f0f0f0; background: rgba(0, 0, 0, 120); border-radius: 3px; "
                                "padding: 1px 4px;")
            shadow = QGraphicsDropShadowEffect(label)
            shadow.setBlurRadius(4)
            shadow.setOffset(1, 1)
            shadow.setColor(Qt.GlobalColor.black)
            label.setGraphicsEffect(shadow)
            self.labels[corner] = label
        self._viewport.installEventFilter(self)
        self._visible = True
        self._lines: dict[str, list[str]] = {corner: [] for corner in CORNERS}

    def set_lines(self, corner: str, lines: list[str]) -> None:
        self._lines[corner] = [line for line in lines if line]
        self._layout(corner.split("_")[0])

    def text(self, corner: str) -> str:
        """What the corner says in full (the label may show it broken or elided to fit)."""
        return "\n".join(self._lines[corner])

    def shown_text(self, corner: str) -> str:
        return self.labels[corner].text()

    def _shown_lines(self, corner: str) -> list[str]:
        lines = self._lines[corner]
        return lines if self._visible else [line for line in lines if line in ALWAYS_SHOWN]

    def _layout(self, edge: str) -> None:
        """The two corners of one edge share its width, so they never run into each other."""
        left, right = f"{edge}_left", f"{edge}_right"
        metrics = self.labels[left].fontMetrics()
        natural = [max((metrics.horizontalAdvance(line) for line in self._shown_lines(c)), default=0)
                   for c in (left, right)]
        available = max(self._viewport.width() - 3 * MARGIN - 8 - 2 * BACKING_PAD, 40)
        widths = corner_widths(natural[0], natural[1], available)
        for corner, width in zip((left, right), widths, strict=True):
            label = self.labels[corner]
            fitted = fit_lines(self._shown_lines(corner), width, metrics.horizontalAdvance,
                               lambda text, w: metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, w))
            label.setText("\n".join(fitted))
            label.setVisible(bool(fitted))  # an empty label would still draw its backing
            label.adjustSize()
            self._place(corner)

    def set_visible(self, visible: bool) -> None:
        """F12: the corner texts on or off, except ALWAYS_SHOWN lines."""
        self._visible = visible
        for edge in ("top", "bottom"):
            self._layout(edge)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self._viewport and event.type() == QEvent.Type.Resize:
            for edge in ("top", "bottom"):
                self._layout(edge)
        return False

    def _place(self, corner: str) -> None:
        label = self.labels[corner]
        area = self._viewport.geometry()  # in the view's coordinates
        size = label.sizeHint()
        x = area.left() + MARGIN if corner.endswith("left") else area.right() - size.width() - MARGIN
        y = area.top() + MARGIN if corner.startswith("top") else area.bottom() - size.height() - MARGIN
        label.setGeometry(max(x, area.left()), max(y, area.top()), size.width(), size.height())
        label.raise_()
