"""Run by test_startup.py in a fresh interpreter: start the app as ``pneumo-desktop`` does, then report.

Prints one JSON line: whether torch was imported when the window first painted, the longest event-loop
stall while the model (and torch) loaded on the worker, whether the app quit cleanly mid-batch, and how
many network sockets the process holds.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from pneumo_desktop import app

report: dict = {}
qapp = QApplication(sys.argv[:1])


class FirstPaint(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint and "torch_at_first_paint" not in report:
            report["torch_at_first_paint"] = "torch" in sys.modules
            report["first_paint_s"] = time.perf_counter() - started
        return False


class Stall:
    """A 5 ms timer: the longest gap between its ticks is the longest the event loop was blocked."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(5)

    def tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now


started = time.perf_counter()
original_start = app.start
paint_filter = FirstPaint()
stall = Stall()


def start(window, paths) -> None:
    window.view.viewport().installEventFilter(paint_filter)
    window.controller.model_ready.connect(lambda card: on_ready(window))
    window.controller.model_failed.connect(lambda message: finish(f"model failed: {message}"))
    original_start(window, paths)


# Holds every batch read until the quit: a batch that cannot finish before it, on any machine (issue 13: a
# 300 ms timer let a fast machine finish all 60 images first).
read_gate = threading.Event()


def gate_reads() -> None:
    from pneumo_desktop.core import scoring  # torch is loaded by now: model_ready came

    original = scoring.read_for_model

    def gated(path, size):
        read_gate.wait(60)
        return original(path, size)

    scoring.read_for_model = gated


def on_ready(window) -> None:
    report["model_ready_s"] = time.perf_counter() - started
    report["max_stall_ms_during_model_load"] = round(stall.worst * 1000, 1)
    if len(sys.argv) > 1:
        gate_reads()
        window.open_paths(sys.argv[1:])
        # Quit once the batch is running (it cannot finish: reads wait): shutdown must cancel promptly.
        poll = QTimer(window)
        poll.timeout.connect(lambda: window.controller.batch_running() and (poll.stop(), quit_mid_batch(window)))
        poll.start(20)
    else:
        finish(None)


def quit_mid_batch(window) -> None:
    report["batch_running_at_quit"] = window.controller.batch_running()
    read_gate.set()  # the read in progress returns; the cancel must stop everything after it
    asked: list[str] = []
    window.ask_quit = lambda _parent, question: asked.append(question) or True  # the reader says Quit
    t = time.perf_counter()
    window.close()
    report["asked_before_quitting"] = bool(asked)
    report["close_s"] = round(time.perf_counter() - t, 3)
    finish(None)


def finish(error: str | None) -> None:
    import psutil

    # The window, the model and a batch have all run: no network socket may exist (Qt's C++ included).
    report["inet_sockets"] = len(psutil.Process().net_connections(kind="inet"))
    report["error"] = error
    print(json.dumps(report), flush=True)
    qapp.quit()


app.start = start
QTimer.singleShot(60_000, lambda: finish("timeout"))
code = app.main([])
sys.exit(code)
