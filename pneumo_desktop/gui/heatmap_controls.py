"""The bar under the image: heatmap on/off, opacity, legend and what the colours mean."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget

from pneumo_desktop.gui.heatmap_overlay import LEGEND_CAPTION, LegendBar


class HeatmapControls(QWidget):
    opacity_changed = Signal(float)

    def __init__(self, toggle_action: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Heatmap controls")
        self.toggle_button = QToolButton(self)
        self.toggle_button.setDefaultAction(toggle_action)
        self.toggle_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle_button.setMinimumWidth(self.toggle_button.sizeHint().width())  # never "He…ay"

        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, 100)
        self.slider.setSingleStep(5)
        self.slider.setPageStep(10)
        self.slider.setMinimumWidth(60)
        self.slider.setMaximumWidth(160)
        self.slider.setAccessibleName("Heatmap opacity")
        self.slider.setToolTip("Heatmap opacity (keyboard: focus the slider, then arrow keys)")
        self.slider.valueChanged.connect(self._on_slider)
        self.opacity_label = QLabel(self)
        self.opacity_label.setMinimumWidth(self.opacity_label.fontMetrics().horizontalAdvance("100 %") + 4)
        opacity_caption = QLabel("&Opacity", self)
        opacity_caption.setBuddy(self.slider)

        self.legend = LegendBar(self)
        self.caption = QLabel(LEGEND_CAPTION, self)
        self.caption.setWordWrap(True)
        self.caption.setAccessibleName("Heatmap meaning")
        self.caption.setToolTip(
            "Grad-CAM: where the network's evidence for its score came from. It is not a lesion "
            "outline and may highlight regions outside the lungs."
        )

        # The caption gets a line of its own under the controls: beside them it was squeezed into a five-line
        # column whenever the study list and the Result panel shared a 1280-px screen with the image.
        row = QHBoxLayout()
        row.addWidget(self.toggle_button)
        row.addWidget(opacity_caption)
        row.addWidget(self.slider)
        row.addWidget(self.opacity_label)
        row.addSpacing(12)
        row.addWidget(self.legend, 1)
        self.legend.setMaximumWidth(320)
        row.addStretch(0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(0)
        layout.addLayout(row)
        layout.addWidget(self.caption)
        toggle_action.toggled.connect(self._on_toggled)
        self._on_toggled(toggle_action.isChecked())

    def set_opacity(self, opacity: float) -> None:
        self.slider.setValue(round(max(0.0, min(opacity, 1.0)) * 100))
        self._show_value()

    def opacity(self) -> float:
        return self.slider.value() / 100.0

    def _on_slider(self, _value: int) -> None:
        self._show_value()
        self.opacity_changed.emit(self.opacity())

    def _show_value(self) -> None:
        self.opacity_label.setText(f"{self.slider.value()} %")

    def _on_toggled(self, on: bool) -> None:
        for widget in (self.slider, self.legend, self.caption, self.opacity_label):
            widget.setEnabled(on)
