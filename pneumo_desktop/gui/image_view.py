"""The X-ray viewer: zoom, pan, window/level, invert, rotate/flip, with the heatmap as a child item.

Mouse (MITK's "PACS" scheme, the one radiologists know from PACS workstations):
  wheel = zoom about the cursor; middle-drag = pan; left-drag = pan (or window/level in W/L mode);
  right-drag = window/level (right widens, down raises the level); Shift+right-drag = pan;
  Ctrl+right-drag = zoom. Right-click therefore opens no context menu on the image.
Rotation and flips live on the image item and zoom on the view, so the heatmap, a child of the image
item, stays registered to the pixels at any zoom, rotation and flip.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QCursor,
    QImage,
    QMouseEvent,
    QPainter,
    QPixmap,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QLabel, QWidget

from pneumo_desktop.core.image import WindowPreset
from pneumo_desktop.gui import windowing
from pneumo_desktop.gui.corner_overlay import CornerOverlay
from pneumo_desktop.gui.display_image import DisplayImage
from pneumo_desktop.gui.qimage import gray_qimage, rgba_qimage

ZOOM_STEP = 1.25
ZOOM_RANGE = (0.02, 32.0)


class ImageView(QGraphicsView):
    view_changed = Signal()  # zoom, orientation, window or invert changed
    cursor_value = Signal(object)  # (row, col, value) under the cursor, or None outside the image

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.heatmap_item = QGraphicsPixmapItem(self.image_item)
        self.heatmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.heatmap_item.setZValue(1)
        self.scene().addItem(self.image_item)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setBackgroundBrush(QBrush(QColor(0, 0, 0)))
        self.setFrameShape(QFrame.Shape.NoFrame)
        # Scroll bars appearing and vanishing would change the viewport while fitting; panning is by drag
        # and arrow keys, which still scroll.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        # Drops go to the main window, which accepts them anywhere.
        self.setAcceptDrops(False)
        self.viewport().setAcceptDrops(False)
        self.viewport().setMouseTracking(True)
        self.setAccessibleName("X-ray image")
        self.setToolTip(
            "Wheel: zoom · Middle or left drag: pan · Right drag: window/level\n"
            "Shift+right drag: pan · Ctrl+right drag: zoom · Arrow keys: scroll"
        )
        self.overlay = CornerOverlay(self)
        # Said in the picture's place whenever there is no picture, so an empty or failed view never
        # passes for a film (and never keeps another patient's film under a new file name).
        self.placeholder = QLabel(self)
        self.placeholder.setObjectName("viewer_placeholder")
        self.placeholder.setAccessibleName("Viewer message")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setTextFormat(Qt.TextFormat.PlainText)
        self.placeholder.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.placeholder.setStyleSheet("color: #c8c8c8; background: transparent; font-size: 11pt;")
        self.display: DisplayImage | None = None
        self.left_button_windows = False
        self._buffer: np.ndarray | None = None
        self._orient = QTransform()
        self._zoom = 1.0
        self._fit_mode = True
        self._center, self._width, self._preset_name = 0.5, 1.0, "Default"
        self._inverted = False
        self._drag: tuple[str, QPoint] | None = None
        self.view_changed.connect(self._refresh_cursor)

    # ----- content -------------------------------------------------------------------------------
    def set_image(self, display: DisplayImage | None, placeholder: str = "") -> None:
        """``placeholder`` is what the empty view says instead (why there is no image)."""
        self.display = display
        self._buffer = None
        self.set_heatmap(None)
        self.placeholder.setText(placeholder if display is None else "")
        self.placeholder.setVisible(display is None and bool(placeholder))
        if display is None:
            self.image_item.setPixmap(QPixmap())
            self.image_item.setTransform(QTransform())
            self.scene().setSceneRect(0, 0, 1, 1)
            self.viewport().update()
            self.view_changed.emit()
            return
        self._orient = QTransform()
        self._inverted = False
        self.apply_preset(display.presets[0], emit=False)
        self.fit()

    def show_preview(self, frame: QImage) -> None:
        """``frame`` (the film's size) drawn and fitted, without a display: no window, values or heatmap to
        interact with until set_image brings the full decode a moment later."""
        self.display = None
        self._buffer = None
        self.set_heatmap(None)
        self.placeholder.setVisible(False)
        self._orient = QTransform()
        self.image_item.setPixmap(QPixmap.fromImage(frame))
        self._update_item_transform()
        self.fit()

    def set_heatmap(self, rgba: np.ndarray | None) -> None:
        if rgba is None:
            self.heatmap_item.setPixmap(QPixmap())
            return
        pixmap = QPixmap.fromImage(rgba_qimage(rgba))
        self.heatmap_item.setPixmap(pixmap)
        if self.display is not None and pixmap.width() > 0:
            rows, cols = self.display.image.shape
            # A heatmap at another resolution still covers exactly the image's pixel grid.
            self.heatmap_item.setTransform(QTransform.fromScale(cols / pixmap.width(), rows / pixmap.height()))

    def has_heatmap(self) -> bool:
        return not self.heatmap_item.pixmap().isNull()

    def set_heatmap_visible(self, visible: bool) -> None:
        self.heatmap_item.setVisible(visible)

    def set_heatmap_opacity(self, opacity: float) -> None:
        self.heatmap_item.setOpacity(max(0.0, min(opacity, 1.0)))

    # ----- window / level --------------------------------------------------------------------------
    def window(self) -> tuple[float, float, str]:
        return self._center, self._width, self._preset_name

    def inverted(self) -> bool:
        return self._inverted

    def apply_preset(self, preset: WindowPreset, *, emit: bool = True) -> None:
        self._set_window(preset.center, preset.width, preset.name, emit=emit)

    def set_window(self, center: float, width: float) -> None:
        self._set_window(center, width, "Custom")

    def _set_window(self, center: float, width: float, name: str, *, emit: bool = True) -> None:
        self._center, self._width = windowing.clamp(center, width)
        self._preset_name = name
        self._render()
        if emit:
            self.view_changed.emit()

    def set_inverted(self, inverted: bool) -> None:
        self._inverted = inverted
        self._render()
        self.view_changed.emit()

    def _render(self) -> None:
        if self.display is None:
            return
        display = self.display
        if self._buffer is None and display.first_frame is not None and not self._inverted \
                and display.first_window == (self._center, self._width):
            # The worker already drew this window (DisplayImage.prepare): no lookup, no conversion here.
            self.image_item.setPixmap(QPixmap.fromImage(display.first_frame))
        else:
            lut = windowing.lookup_table(self._center, self._width, self._inverted)
            self._buffer = windowing.apply(display.levels(), lut, self._buffer)
            self.image_item.setPixmap(QPixmap.fromImage(gray_qimage(self._buffer)))
        self._update_item_transform()

    # ----- geometry ---------------------------------------------------------------------------------
    def zoom(self) -> float:
        return self._zoom

    def orientation(self) -> QTransform:
        return QTransform(self._orient)

    def orientation_text(self) -> str:
        """The film as shown next to the film as stored, in the one wording the PDF and the "Scored as displayed"
        note use ("Flipped left-right, then rotated 90° clockwise"); empty as stored."""
        from pneumo_desktop.core.orientation import describe, orientation_of_view

        m = self._orient
        index = orientation_of_view(m.m11(), m.m12(), m.m21(), m.m22())
        return "" if index == 0 else describe(index)[:1].upper() + describe(index)[1:]

    def rotate_by(self, degrees: int) -> None:
        self._reorient(QTransform().rotate(degrees))

    def flip(self, horizontal: bool) -> None:
        self._reorient(QTransform.fromScale(-1, 1) if horizontal else QTransform.fromScale(1, -1))

    def _reorient(self, step: QTransform) -> None:
        # Operations apply in screen space: what the user sees gets rotated/flipped next.
        self._orient = self._orient * step
        self._update_item_transform()
        if self._fit_mode:
            self.fit()
        else:
            self._apply_zoom(self._zoom)
            self.view_changed.emit()

    def _update_item_transform(self) -> None:
        rect = self.image_item.boundingRect()
        c = rect.center()
        self.image_item.setTransform(
            QTransform.fromTranslate(-c.x(), -c.y()) * self._orient * QTransform.fromTranslate(c.x(), c.y())
        )
        self.scene().setSceneRect(self.image_item.sceneBoundingRect())

    def fit(self) -> None:
        rect = self.image_item.sceneBoundingRect()
        if rect.isEmpty():
            return
        view = self.viewport().rect()
        zoom = min(view.width() / rect.width(), view.height() / rect.height())
        self._apply_zoom(zoom)
        self._fit_mode = True
        self.centerOn(rect.center())
        self.view_changed.emit()

    def actual_size(self) -> None:
        """One image pixel per physical screen pixel, also on high-DPI screens."""
        self.zoom_to(1.0 / self.devicePixelRatioF())

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        self.zoom_to(self._zoom * factor, anchor)

    def zoom_to(self, zoom: float, anchor: QPoint | None = None) -> None:
        """Zoom keeping the scene point under ``anchor`` (viewport coordinates) where it is."""
        anchor = anchor if anchor is not None else self.viewport().rect().center()
        before = self.mapToScene(anchor)
        self._apply_zoom(zoom)
        self._fit_mode = False
        shift = self.mapFromScene(before) - anchor
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + shift.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + shift.y())
        self.view_changed.emit()

    def _apply_zoom(self, zoom: float) -> None:
        self._zoom = float(min(max(zoom, ZOOM_RANGE[0]), ZOOM_RANGE[1]))
        self.setTransform(QTransform.fromScale(self._zoom, self._zoom))

    def reset_orientation(self) -> None:
        """The film as stored (no turn, no flip); zoom follows as after a turn."""
        self._reorient(self._orient.inverted()[0])

    def reset(self) -> None:
        self._orient = QTransform()
        self._inverted = False
        if self.display is not None:
            self.apply_preset(self.display.presets[0], emit=False)
        self._update_item_transform()
        self.fit()

    def image_position(self, viewport_pos: QPoint | QPointF) -> tuple[float, float]:
        """(x, y) in image pixel coordinates of a viewport point."""
        scene = self.mapToScene(QPoint(int(viewport_pos.x()), int(viewport_pos.y())))
        local = self.image_item.mapFromScene(scene)
        return local.x(), local.y()

    # ----- Qt overrides -------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.placeholder.setGeometry(self.viewport().geometry().adjusted(24, 24, -24, -24))
        if self._fit_mode:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        steps = event.angleDelta().y() / 120.0
        if steps and self.display is not None:
            self.zoom_by(ZOOM_STEP**steps, event.position().toPoint())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        mode = self._drag_mode(event.button(), event.modifiers())
        if mode is None or self.display is None:
            super().mousePressEvent(event)
            return
        self._drag = (mode, event.position().toPoint())
        cursor = {"pan": Qt.CursorShape.ClosedHandCursor, "zoom": Qt.CursorShape.SizeVerCursor}
        self.viewport().setCursor(cursor.get(mode, Qt.CursorShape.SizeAllCursor))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position().toPoint()
        if self._drag is not None:
            mode, last = self._drag
            delta = pos - last
            self._drag = (mode, pos)
            self._drag_step(mode, delta, pos)
            event.accept()
        self._report_cursor(pos)
        if self._drag is None:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._drag is not None:
            self._drag = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.cursor_value.emit(None)
        super().leaveEvent(event)  # type: ignore[arg-type]

    # ----- interaction helpers -----------------------------------------------------------------------------
    def _drag_mode(self, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> str | None:
        if button == Qt.MouseButton.MiddleButton:
            return "pan"
        if button == Qt.MouseButton.LeftButton:
            return "window" if self.left_button_windows else "pan"
        if button == Qt.MouseButton.RightButton:
            if modifiers & Qt.KeyboardModifier.ShiftModifier:
                return "pan"
            if modifiers & Qt.KeyboardModifier.ControlModifier:
                return "zoom"
            return "window"
        return None

    def _drag_step(self, mode: str, delta: QPoint, pos: QPoint) -> None:
        if mode == "pan":
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
        elif mode == "zoom":
            self.zoom_by(1.01 ** (-delta.y()), pos)
        else:
            span = max(self.viewport().width(), self.viewport().height())
            center, width = windowing.drag_to_window(self._center, self._width, delta.x(), delta.y(), span)
            self._set_window(center, width, "Custom")

    def _refresh_cursor(self) -> None:
        """After a zoom, turn or pan from the keyboard the mouse has not moved, yet another pixel lies under it:
        the value readout follows (issue 24 C9)."""
        if self.display is None or self._drag is not None:
            return
        pos = self.viewport().mapFromGlobal(QCursor.pos())
        if self.viewport().rect().contains(pos):
            self._report_cursor(pos)

    def _report_cursor(self, pos: QPoint) -> None:
        if self.display is None:
            return
        x, y = self.image_position(pos)
        row, col = int(np.floor(y)), int(np.floor(x))
        value = self.display.value_at(row, col)
        self.cursor_value.emit(None if value is None else (row, col, value))
