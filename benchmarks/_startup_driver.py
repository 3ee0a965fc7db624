"""Run by benchmarks/startup.py in a fresh interpreter: start the app exactly as ``pneumo-desktop [FILE]``
does (launcher.main) and write the CLOCK_MONOTONIC time of each milestone to the JSON file named by
PNEUMO_BENCH_OUT. The parent took its own monotonic time just before spawning this process, so
"launch -> milestone" includes interpreter start and every import.

Milestones: first Expose of a window, first Paint of a widget, model ready, the prediction slot done for
FILE (probability and heatmap set on the view, viewport repainted). A 10 ms QTimer on the GUI thread records
every gap between ticks, so the longest GUI-thread stall in each phase can be reported.
"""

from __future__ import annotations

import json
import os
import sys
import time

STAMPS: dict[str, float] = {"driver_start": time.monotonic()}

from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from pneumo_desktop import app, launcher  # noqa: E402

TICK_MS = 10
TIMEOUT_MS = 120_000
ticks: list[float] = []


class Probe(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        kind = event.type()
        if kind == QEvent.Type.Expose and "first_expose" not in STAMPS:
            STAMPS["first_expose"] = time.monotonic()
        elif kind == QEvent.Type.Paint and "first_paint" not in STAMPS:
            STAMPS["first_paint"] = time.monotonic()
            STAMPS["torch_imported_at_first_paint"] = float("torch" in sys.modules)
        return False


probe = Probe()
timer = QTimer()
timer.timeout.connect(lambda: ticks.append(time.monotonic()))
original_build = app.build


def finish(error: str | None = None) -> None:
    STAMPS["end"] = time.monotonic()
    payload = {"stamps": STAMPS, "ticks": ticks, "error": error, "tick_ms": TICK_MS}
    with open(os.environ["PNEUMO_BENCH_OUT"], "w", encoding="utf-8") as fh:
        json.dump(payload, fh)
    QApplication.instance().quit()


def build(**kwargs):  # type: ignore[no-untyped-def]
    window = original_build(**kwargs)
    STAMPS["built"] = time.monotonic()
    QApplication.instance().installEventFilter(probe)
    timer.start(TICK_MS)
    controller = window.controller
    wants_prediction = len(sys.argv) > 1

    def on_model_ready(_card: object) -> None:
        STAMPS["model_ready"] = time.monotonic()
        if not wants_prediction:
            QTimer.singleShot(300, finish)  # a few more ticks after the load

    def on_prediction(_result: object) -> None:
        window.view.viewport().repaint()
        STAMPS["prediction_shown"] = time.monotonic()
        QTimer.singleShot(300, finish)

    controller.model_ready.connect(on_model_ready)
    controller.model_failed.connect(lambda message: finish(f"model failed: {message}"))
    controller.prediction_ready.connect(on_prediction)
    controller.prediction_failed.connect(lambda message: finish(f"prediction failed: {message}"))
    QTimer.singleShot(TIMEOUT_MS, lambda: finish("timeout"))
    return window


app.build = build
sys.exit(launcher.main(sys.argv[1:]))
