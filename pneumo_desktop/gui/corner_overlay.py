"""The four-corner text overlay on the image (RadiAnt's layout): labels floating on the view's viewport.

Top left: file and image facts. Top right: patient/study line (PHI filtered by the caller). Bottom left:
pixel value under the cursor and the window. Bottom right: zoom and orientation. Labels ignore the mouse,
so dragging on the image is never intercepted. They are children of the view, not of its viewport: a
scrolling viewport moves its children along with the picture.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QGraphicsDropShadowEffect, QLabel

CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")
_ALIGN = {
    "top_left": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
    "top_right": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
    "bottom_left": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
    "bottom_right": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
}
MARGIN = 8


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
            # Light text with a dark halo stays legible on both lung fields and bone.
            label.setStyleSheet("color: #f0f0f0; background: transparent;")
            shadow = QGraphicsDropShadowEffect(label)
            shadow.setBlurRadius(4)
            shadow.setOffset(1, 1)
            shadow.setColor(Qt.GlobalColor.black)
            label.setGraphicsEffect(shadow)
            self.labels[corner] = label
        self._viewport.installEventFilter(self)
        self._visible = True

    def set_lines(self, corner: str, lines: list[str]) -> None:
        label = self.labels[corner]
        label.setText("\n".join(line for line in lines if line))
        label.adjustSize()
        self._place(corner)

    def text(self, corner: str) -> str:
        return self.labels[corner].text()

    def set_visible(self, visible: bool) -> None:
        self._visible = visible
        for label in self.labels.values():
            label.setVisible(visible)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self._viewport and event.type() == QEvent.Type.Resize:
            for corner in CORNERS:
                self._place(corner)
        return False

    def _place(self, corner: str) -> None:
        label = self.labels[corner]
        area = self._viewport.geometry()  # in the view's coordinates
        size = label.sizeHint()
        x = area.left() + MARGIN if corner.endswith("left") else area.right() - size.width() - MARGIN
        y = area.top() + MARGIN if corner.startswith("top") else area.bottom() - size.height() - MARGIN
        label.setGeometry(max(x, area.left()), max(y, area.top()), size.width(), size.height())
        label.raise_()
