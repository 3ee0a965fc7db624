"""The central pane: the image view, its corner texts and the heatmap bar under it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QVBoxLayout, QWidget

from pneumo_desktop.gui.display_image import DisplayImage
from pneumo_desktop.gui.heatmap_controls import HeatmapControls
from pneumo_desktop.gui.image_view import ImageView
from pneumo_desktop.gui.overlay_text import cursor_lines, geometry_lines, image_lines
from pneumo_desktop.gui.phi import patient_lines


class ViewerPane(QWidget):
    preset_applied = Signal(int)

    def __init__(self, heatmap_action: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ImageView(self)
        self.heatmap_controls = HeatmapControls(heatmap_action, self)
        self.heatmap_controls.opacity_changed.connect(self.view.set_heatmap_opacity)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.heatmap_controls)
        self._cursor: tuple[int, int, float] | None = None
        self._header: dict[str, Any] = {}  # the tags of a DICOM shown without an image
        self.view.view_changed.connect(self._update_view_text)
        self.view.cursor_value.connect(self._on_cursor)

    @property
    def display(self) -> DisplayImage | None:
        return self.view.display

    def set_display(self, display: DisplayImage | None, placeholder: str = "") -> None:
        self._cursor = None
        self._header = {}
        self.view.set_image(display, placeholder)
        self._update_view_text()

    def show_preview(self, frame: QImage) -> None:
        """A first look at the film while its full decode runs; set_display replaces it."""
        self._cursor = None
        self._header = {}
        self.view.show_preview(frame)
        self._update_view_text()

    def set_identity(self, label: str, hide_phi: bool) -> None:
        """The file label and patient/study line; called on every image change and hide-PHI toggle."""
        overlay, display = self.view.overlay, self.view.display
        overlay.set_lines("top_left", image_lines(display, label) if display is not None else [])
        metadata: dict[str, Any] = display.image.metadata if display is not None else self._header
        overlay.set_lines("top_right", patient_lines(metadata, hide_phi))

    def set_header(self, metadata: dict[str, Any], label: str, hide_phi: bool) -> None:
        """The patient/study line of a DICOM whose image failed: whose film it is matters as much as why."""
        self._header = dict(metadata)
        self.set_identity(label, hide_phi)

    def apply_preset(self, index: int) -> None:
        display = self.view.display
        if display is not None and 0 <= index < len(display.presets):
            self.view.apply_preset(display.presets[index])
            self.preset_applied.emit(index)

    def set_heatmap_visible(self, visible: bool) -> None:
        self.view.set_heatmap_visible(visible)

    def set_opacity(self, opacity: float) -> None:
        self.heatmap_controls.set_opacity(opacity)
        self.view.set_heatmap_opacity(opacity)

    def opacity(self) -> float:
        return self.heatmap_controls.opacity()

    def _on_cursor(self, cursor: tuple[int, int, float] | None) -> None:
        self._cursor = cursor
        self._update_view_text()

    def _update_view_text(self) -> None:
        overlay = self.view.overlay
        if self.view.display is None:
            overlay.set_lines("bottom_left", [])
            overlay.set_lines("bottom_right", [])
            return
        center, width, preset = self.view.window()
        overlay.set_lines("bottom_left", cursor_lines(self._cursor, center, width, preset, self.view.inverted(),
                                                      self.view.display.units))
        overlay.set_lines("bottom_right", geometry_lines(self.view.zoom(), self.view.orientation_text()))
