"""The main window's dock layout: minimum widths that keep the result readable, a saved layout that is checked
before it is trusted, and View ▸ Reset Layout.

A dock dragged narrow used to stay so, and was saved so: at 1280×720 the Result panel could end ~70 px wide
with the probability broken over three lines, and a restart brought it back like that. Minimum widths come
from the fonts in use (so they hold at any DPI or font size), and Qt's layout enforces them on restore too.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStyle, QWidget

RESULT_DOCK_WIDTH = 330
STUDY_DOCK_WIDTH = 500
# The widest lines the Result panel must show unbroken: the headline probability (in the headline font) and
# the label line; everything else there wraps.
HEADLINE_SAMPLE = "> 99.9 %"
LABEL_SAMPLE = "PNEUMONIA (threshold 70.5 %)"
VIEWER_MIN_WIDTH = 320
FIRST_SIZE = (1400, 900)
# A first window takes at most this share of the screen's free area: a 1280×720 laptop sees it whole, with
# room for the desktop's own bars, and the Result panel and status bar inside the screen.
SCREEN_SHARE = 0.9


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
            self.fit_first_window()
        else:
            self.keep_on_screen()
        if state.isEmpty() or not self._window.restoreState(state) or not self.sane():
            self.reset()
            return False
        return True

    def fit_first_window(self) -> None:
        """The first window: 1400×900 where the screen has room, else about 90 % of its free area, centred."""
        area = self._available_area()
        if area is None:
            self._window.resize(*FIRST_SIZE)
            return
        width = min(FIRST_SIZE[0], int(area.width() * SCREEN_SHARE))
        height = min(FIRST_SIZE[1], int(area.height() * SCREEN_SHARE))
        self._window.resize(width, height)
        self._window.move(area.x() + (area.width() - width) // 2, area.y() + (area.height() - height) // 2)

    def keep_on_screen(self) -> None:
        """A saved geometry from a larger screen (or a monitor since unplugged) is shrunk and moved inside the
        free area: a window edge below the screen hides the status bar's warnings."""
        area = self._available_area()
        window = self._window
        if area is None or window.isMaximized() or window.isFullScreen():
            return
        frame = window.frameGeometry()
        if area.contains(frame):
            return
        extra_w, extra_h = frame.width() - window.width(), frame.height() - window.height()
        width = min(window.width(), int(area.width() * SCREEN_SHARE))
        height = min(window.height(), int(area.height() * SCREEN_SHARE))
        window.resize(width, height)
        x = min(max(frame.x(), area.x()), area.right() - width - extra_w)
        y = min(max(frame.y(), area.y()), area.bottom() - height - extra_h)
        window.move(x, y)

    def _available_area(self) -> QRect | None:
        screen = QGuiApplication.screenAt(self._window.frameGeometry().center()) or QGuiApplication.primaryScreen()
        return screen.availableGeometry() if screen is not None else None

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
