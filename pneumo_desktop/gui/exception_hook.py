"""The global exception hook: log without PHI, show a friendly message, never a traceback window.

Exception messages may quote file paths (an OSError does), and folders are often named after patients,
so the log keeps the exception type and the code frames but not the message.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, QThread, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

log = logging.getLogger("pneumo_desktop")

FRIENDLY_MESSAGE = (
    "Something went wrong inside pneumo_desktop. Your images and files were not changed. "
    "The details were written to the log; you can keep working."
)


def log_exception(exc_type: type[BaseException], tb: TracebackType | None, where: str = "") -> None:
    frames = "".join(traceback.format_tb(tb)) if tb is not None else ""
    log.error("unhandled %s%s (message withheld: may contain PHI)\n%s", exc_type.__name__,
              f" in {where}" if where else "", frames)


class _Notifier(QObject):
    """Marshals a hook call from any thread to the GUI thread."""

    show = Signal()


class ExceptionHook:
    def __init__(self, parent: QWidget | None = None) -> None:
        self._parent = parent
        self._notifier = _Notifier()
        self._notifier.show.connect(self._show_message)
        self._showing = False
        self._previous = (sys.excepthook, threading.excepthook)

    def install(self) -> None:
        sys.excepthook = self._hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def set_parent(self, parent: QWidget | None) -> None:
        self._parent = parent

    def _hook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            app = QApplication.instance()
            if app is not None:
                app.quit()
            return
        log_exception(exc_type, tb)
        self._notifier.show.emit()

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        log_exception(args.exc_type, args.exc_traceback, where="a background thread")
        self._notifier.show.emit()

    def _show_message(self) -> None:
        app = QApplication.instance()
        if app is None or QThread.currentThread() is not app.thread() or self._showing:
            return
        # A burst of errors shows one box, not a cascade of modal dialogs.
        self._showing = True
        QTimer.singleShot(0, self._open_box)

    def _open_box(self) -> None:
        try:
            QMessageBox.warning(self._parent, "pneumo_desktop", FRIENDLY_MESSAGE)
        finally:
            self._showing = False
