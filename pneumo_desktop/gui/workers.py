"""The one worker shape: a QRunnable that owns a Signals QObject (superqt's pattern, HOUSE_STYLE A2).

Exactly one of ``finished``/``failed``/``cancelled`` fires after ``started``. Workers never touch widgets;
signals are their only way back, and the receiver (created on the GUI thread) gets them queued.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

from pneumo_desktop.core.errors import PneumoError
from pneumo_desktop.gui.exception_hook import log_exception


class Cancelled(Exception):
    """Raised inside ``work()`` at a checkpoint once cancel was requested."""


class WorkerSignals(QObject):
    started = Signal()
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()


def friendly_error(exc: BaseException) -> str:
    """A sentence for the user; our own errors already are one, anything else is an internal fault."""
    if isinstance(exc, PneumoError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "Not enough memory to process this file."
    if isinstance(exc, OSError):
        return f"The file could not be read ({exc.strerror or type(exc).__name__})."
    return f"Unexpected internal error ({type(exc).__name__}); details are in the log."


class Worker(QRunnable):
    """Subclasses implement ``work()`` and call ``checkpoint()`` between slow steps."""

    def __init__(self, request_id: int = 0) -> None:
        super().__init__()
        self.request_id = request_id
        # Created here, on the caller's (GUI) thread, so slots connected to it run on the GUI thread.
        self.signals = WorkerSignals()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def should_stop(self) -> bool:
        return self._cancel.is_set()

    def checkpoint(self) -> None:
        if self._cancel.is_set():
            raise Cancelled

    def work(self) -> Any:
        raise NotImplementedError

    def run(self) -> None:
        self._say(self.signals.started)
        try:
            self.checkpoint()
            result = self.work()
            self.checkpoint()
        except Cancelled:
            self._say(self.signals.cancelled)
        except Exception as exc:  # noqa: BLE001 - a worker must report, never kill its pool thread
            if not isinstance(exc, PneumoError):
                log_exception(type(exc), exc.__traceback__, where=type(self).__name__)
            self._say(self.signals.failed, friendly_error(exc))
        else:
            self._say(self.signals.finished, result)

    @staticmethod
    def _say(signal: Any, *args: Any) -> None:
        """Emit, unless the window is already gone: a worker that outlives it at quit (a network step that was
        still waiting) has nobody left to tell, and must not print a traceback on the way out."""
        with contextlib.suppress(RuntimeError):  # "Signal source has been deleted"
            signal.emit(*args)


class TaskWorker(Worker):
    """Runs one plain function (export, reading the audit log) off the GUI thread."""

    def __init__(self, function: Callable[[], Any], request_id: int = 0) -> None:
        super().__init__(request_id)
        self._function = function

    def work(self) -> Any:
        return self._function()


class StoppableTaskWorker(Worker):
    """Runs one plain function that takes ``should_stop`` (network operations: cancelled between steps, and
    every association has its own timeout)."""

    def __init__(self, function: Callable[[Callable[[], bool]], Any], request_id: int = 0) -> None:
        super().__init__(request_id)
        self._function = function

    def work(self) -> Any:
        return self._function(self.should_stop)
