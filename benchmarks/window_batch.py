"""Batch stress benchmark for the window (issue 5): 1,000 files, 10 % bad, offscreen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/window_batch.py [N_FILES] [--model DIR] [--warm]

Measures, through the real window: every good file gets a result and every bad one an error; the
longest event-loop stall (a 5 ms timer's worst gap) while the batch runs; RSS at file 100 and at the
end; and, in a second run, how long a cancel takes until the model thread is idle. Prints JSON.
Without --model it uses the shipped model (models/, or PNEUMO_DESKTOP_MODELS).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PNEUMO_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="pneumo_bench_")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks._common import KERMANY, open_window  # noqa: E402

BAD = (b"", b"not an image at all", b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 40, b"\x89PNG\r\n\x1a\n")


def make_folder(root: Path, count: int) -> tuple[Path, int]:
    sources = sorted((KERMANY / "test").glob("*/*.jpg"))
    folder = root / "batch"
    folder.mkdir()
    bad = 0
    for i in range(count):
        if i % 10 == 9:
            (folder / f"{i:04d}_bad.jpg").write_bytes(BAD[bad % len(BAD)])
            bad += 1
        else:
            shutil.copy(sources[i % len(sources)], folder / f"{i:04d}.jpg")
    return folder, bad


class StallMeter:
    def __init__(self) -> None:
        self.worst = 0.0
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.worst, self.last = 0.0, time.perf_counter()
        self.began = self.last
        self.long: list[tuple[float, float]] = []  # (seconds since start, stall ms) of stalls > 100 ms
        self.timer.start(5)

    def _tick(self) -> None:
        now = time.perf_counter()
        stall = now - self.last - 0.005
        if stall > 0.1:
            self.long.append((round(self.last - self.began, 2), round(stall * 1000)))
        self.worst = max(self.worst, stall)
        self.last = now


class Watchdog:
    """Samples the GUI thread's Python stack while it is stalled, to say where the time went."""

    def __init__(self, meter: StallMeter, threshold: float = 0.15) -> None:
        import threading

        self.meter, self.threshold = meter, threshold
        self.samples: dict[str, int] = {}
        self.main_id = threading.main_thread().ident
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import threading
        import traceback

        while not self.stop.wait(0.05):
            if time.perf_counter() - self.meter.last > self.threshold:
                frames = sys._current_frames()
                frame = frames.get(self.main_id)
                if frame is not None:
                    where = " < ".join(f"{Path(f.filename).name}:{f.lineno}:{f.name}"
                                       for f in traceback.extract_stack(frame)[-4:][::-1])
                    self.samples[where] = self.samples.get(where, 0) + 1
                if "--threads" in sys.argv:
                    for ident, other in frames.items():
                        if ident not in (self.main_id, threading.get_ident()):
                            top = traceback.extract_stack(other)[-3:][::-1]
                            where = "worker: " + " < ".join(f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in top)
                            self.samples[where] = self.samples.get(where, 0) + 1


def spin(qapp: QApplication, condition, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        qapp.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def main() -> None:
    args = sys.argv[1:]
    if "--model" in args:
        os.environ["PNEUMO_DESKTOP_MODELS"] = args[args.index("--model") + 1]
    count = int(args[0]) if args and args[0].isdigit() else 1000
    qapp, window = open_window()
    controller = window.controller
    root = Path(tempfile.mkdtemp(prefix="pneumo_batch_"))
    folder, bad = make_folder(root, count)
    process = psutil.Process()
    finished: list[bool] = []
    controller.batch_finished.connect(finished.append)
    rss: dict[str, float] = {}
    done = {"n": 0}

    def on_item(_result) -> None:
        done["n"] += 1
        if done["n"] in (100, 250, 500, 750):
            rss[f"at_{done['n']}_mb"] = process.memory_info().rss / 2**20

    if "--warm" in args:
        # One small batch first, so one-time costs (first forward/backward at these shapes) are excluded.
        warm_folder = root / "warm"
        warm_folder.mkdir()
        for src in sorted(folder.glob("*.jpg"))[:12]:
            shutil.copy(src, warm_folder / src.name)
        finished.clear()
        window.open_paths([warm_folder])
        spin(qapp, lambda: finished, 600)
        spin(qapp, lambda: controller.current_result is not None, 60)
    controller.batch_item.connect(on_item)
    meter = StallMeter()
    meter.start()
    watchdog = Watchdog(meter)
    started = time.perf_counter()
    finished.clear()
    window.open_paths([folder])
    spin(qapp, lambda: finished, 3600)
    elapsed = time.perf_counter() - started
    rss["at_end_mb"] = process.memory_info().rss / 2**20
    try:  # what the allocator holds but does not use: freed memory, not a leak
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
        rss["at_end_after_malloc_trim_mb"] = process.memory_info().rss / 2**20
    except (OSError, AttributeError):
        pass
    counts = window.study_list.model.counts()
    result = {
        "files": count, "bad": bad, "counts": counts, "seconds": round(elapsed, 1),
        "files_per_second": round(count / elapsed, 1),
        "max_event_loop_stall_ms": round(meter.worst * 1000, 1),
        "stalls_over_100ms": meter.long[:20],
        "gui_thread_during_stalls": dict(sorted(watchdog.samples.items(), key=lambda kv: -kv[1])[:8]),
        "rss_growth_100_to_end_mb": round(rss["at_end_mb"] - rss.get("at_100_mb", float("nan")), 1),
        "rss_mb": {k: round(v, 1) for k, v in rss.items()},
        "every_good_file_scored": counts["done"] + counts["rejected"] == count - bad,
        "every_bad_file_error": counts["error"] == bad,
    }

    # Cancel latency: start again, cancel once 50 results are in, time until the model thread is idle.
    seen = {"n": 0}
    controller.batch_item.connect(lambda _r: seen.__setitem__("n", seen["n"] + 1))
    window.open_paths([folder])
    spin(qapp, lambda: seen["n"] >= 50, 600)
    t = time.perf_counter()
    controller.cancel_batch()
    spin(qapp, lambda: controller.model_pool.activeThreadCount() == 0 and not controller.busy(), 60)
    result["cancel_to_idle_s"] = round(time.perf_counter() - t, 3)
    controller.shutdown()
    shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
