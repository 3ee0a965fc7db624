"""The main window's dock layout: minimum widths that keep the result readable, a saved layout that is checked
before it is trusted, and View ▸ Reset Layout.

A dock dragged narrow used to stay so, and was saved so: at 1280×720 the Result panel could end ~70 px wide
with the probability broken over three lines, and a restart brought it back like that. Minimum widths come
from the fonts in use (so they hold at any DPI or font size), and Qt's layout enforces them on restore too.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStyle, QWidget

RESULT_DOCK_WIDTH = 330
STUDY_DOCK_WIDTH = 500
# The widest lines the Result panel must show unbroken: the headline probability (in the headline font) and
# the label line; everything else there wraps.
HEADLINE_SAMPLE = "> 99.9 %"
LABEL_SAMPLE = "PNEUMONIA (threshold 70.5 %)"
VIEWER_MIN_WIDTH = 320


def text_width(widget: QWidget, text: str) -> int:
    return widget.fontMetrics().horizontalAdvance(text)


def result_min_width(headline: QWidget, label: QWidget) -> int:
    """Headline and label line on one line each, plus the panel margins and the scroll bar."""
    scroll_bar = headline.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    return max(text_width(headline, HEADLINE_SAMPLE), text_width(label, LABEL_SAMPLE)) + 2 * 8 + scroll_bar + 12


class WindowLayout:
    """Owns the docks' sizes. ``capture_default`` must run before any saved state is restored."""

    def __init__(self, window: QMainWindow, result_dock: QDockWidget, study_dock: QDockWidget,
                 result_min: int, study_min: int) -> None:
        self._window = window
        self.result_dock, self.study_dock = result_dock, study_dock
        result_dock.widget().setMinimumWidth(result_min)
        study_dock.widget().setMinimumWidth(study_min)
        central = window.centralWidget()
        if central is not None:  # the image, and the heatmap bar under it unbroken
            central.setMinimumWidth(max(VIEWER_MIN_WIDTH, central.minimumSizeHint().width()))
        self._default = QByteArray()

    def capture_default(self) -> None:
        self._default = self._window.saveState()

    def restore(self, geometry: QByteArray, state: QByteArray) -> bool:
        """The saved layout if it passes the checks, else the default one; True when the saved one was used."""
        if geometry.isEmpty() or not self._window.restoreGeometry(geometry):
            self._window.resize(1400, 900)
        if state.isEmpty() or not self._window.restoreState(state) or not self.sane():
            self.reset()
            return False
        return True

    def sane(self) -> bool:
        """The Result panel is where the score is read: after a restart it must be shown, and on a screen if it
        floats (a monitor unplugged since). Its width needs no check: the minimum width holds on restore."""
        dock = self.result_dock
        if dock.isHidden():
            return False
        return not dock.isFloating() or QGuiApplication.screenAt(dock.geometry().center()) is not None

    def reset(self) -> None:
        """View ▸ Reset Layout: the docks where a first start puts them, the Result panel shown at its width."""
        studies_shown = self.study_dock.isVisible()
        if not self._default.isEmpty():
            self._window.restoreState(self._default)
        for dock in (self.result_dock, self.study_dock):
            dock.setFloating(False)
        self.result_dock.show()
        docks, widths = [self.result_dock], [RESULT_DOCK_WIDTH]
        if studies_shown:
            self.study_dock.show()
            docks.append(self.study_dock)
            widths.append(STUDY_DOCK_WIDTH)
        self._window.resizeDocks(docks, widths, Qt.Orientation.Horizontal)
