"""Owns the worker pools, the request ids and the model session; the window only talks to this.

Policy (HOUSE_STYLE F3-F5, Orange3's "new request cancels old"):
- one image pool (loading, folder walking, exports) and one model pool, each with one thread, so the
  Predictor is only ever used from one thread;
- the image on screen is one request: a new one cancels the old, and results carrying an old request id
  are dropped; interactive jobs get a higher priority than batch items so they jump the batch queue;
- a batch is one queued job per file sharing a cancel flag; cancelling bumps the batch id first, so no
  result of the cancelled batch reaches the window after ``cancel_batch()`` returns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

from pneumo_desktop.core.audit import AuditTrail
from pneumo_desktop.core.collect import input_folders
from pneumo_desktop.gui.allocator import release_free_memory
from pneumo_desktop.gui.display_image import DisplayImage
from pneumo_desktop.gui.jobs import (
    BatchChunkWorker,
    BatchItemResult,
    CollectWorker,
    DecodeHandoff,
    ImageLoadWorker,
    ModelLoadWorker,
    PredictionResult,
    PredictWorker,
)
from pneumo_desktop.gui.model_session import ModelSession
from pneumo_desktop.gui.workers import TaskWorker, Worker

log = logging.getLogger(__name__)
INTERACTIVE, BATCH = 10, 0
BATCH_CHUNK = 4  # files per model-thread job: bounds cancel latency and the wait of an interactive request
QUEUED_CHUNKS = 3  # batch jobs waiting on the model thread at any time
SHUTDOWN_TIMEOUT_MS = 5000
AUDIT_SOURCE = "gui"


def _header_of(path: Path) -> dict[str, Any] | None:
    from pneumo_desktop.core.dicom_header import read_header  # pydicom: only when a file failed

    return read_header(path)


class Controller(QObject):
    model_ready = Signal(object)  # ModelCard
    model_failed = Signal(str)
    image_loading = Signal(object)  # Path
    image_ready = Signal(object)  # DisplayImage
    image_failed = Signal(object, str)  # Path, message
    image_header = Signal(object, object)  # Path, metadata: the tags of a DICOM whose image failed
    prediction_ready = Signal(object)  # PredictionResult
    prediction_failed = Signal(str)
    batch_started = Signal(list)  # list[Path]
    batch_item = Signal(object)  # BatchItemResult
    batch_progress = Signal(int, int, float)  # done, total, seconds left (-1 unknown)
    batch_finished = Signal(bool)  # True when cancelled
    nothing_found = Signal(str)
    opened = Signal(object)  # the folder the opened inputs live in: where the next Open dialog starts
    audit_failed = Signal()

    def __init__(self, session: ModelSession | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session or ModelSession()
        self.image_pool = QThreadPool(self)
        self.image_pool.setMaxThreadCount(1)
        self.model_pool = QThreadPool(self)
        self.model_pool.setMaxThreadCount(1)
        self._workers: dict[QObject, Worker] = {}
        self._task_callbacks: dict[QObject, tuple[Callable[[Any], None], Callable[[str], None]]] = {}
        self._request = 0
        self._open_request = 0
        self._batch_id = 0
        self._batch_cancel = threading.Event()
        self._batch_total = 0
        self._batch_done = 0
        self._batch_started_at = 0.0
        self._batch_seen: set[int] = set()
        self._pending_chunks: deque[list[tuple[int, Path]]] = deque()
        self._queued_chunks = 0
        self.input_folders: set[Path] = set()  # never written into (exports refuse them)
        self.current: DisplayImage | None = None
        self.current_result: PredictionResult | None = None
        self._outcome: PredictionResult | str | None = None  # the model's answer, waiting for the image
        self._closing = False
        # One audit line per file of an opened set: its batch row and its scoring on screen are one result.
        self._trail = AuditTrail(AUDIT_SOURCE)

    # ----- plumbing ---------------------------------------------------------------------------------
    def _start(self, worker: Worker, pool: QThreadPool, priority: int, on_finished: Callable[..., Any],
               on_failed: Callable[..., Any] | None = None) -> Worker:
        self._workers[worker.signals] = worker
        worker.signals.finished.connect(on_finished)
        worker.signals.failed.connect(on_failed or self._on_generic_failed)
        worker.signals.cancelled.connect(self._on_cancelled)
        pool.start(worker, priority)
        return worker

    def _take(self) -> Worker | None:
        """The worker whose signal is being delivered; it is finished with, so forget it."""
        return self._workers.pop(self.sender(), None)

    @Slot()
    def _on_cancelled(self) -> None:
        self._task_callbacks.pop(self.sender(), None)
        self._chunk_ended(self._take())

    @Slot(str)
    def _on_generic_failed(self, message: str) -> None:
        self._take()
        log.warning("background task failed: %s", message)

    def busy(self) -> bool:
        return bool(self._workers)

    # ----- model ----------------------------------------------------------------------------------------
    def load_model(self) -> None:
        self._start(ModelLoadWorker(self.session), self.model_pool, INTERACTIVE + 1,
                    self._on_model_loaded, self._on_model_failed)

    @Slot(object)
    def _on_model_loaded(self, card: Any) -> None:
        self._take()
        self.model_ready.emit(card)

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        self._take()
        self.model_failed.emit(message)

    # ----- opening: the one path for drop, File>Open, Open Folder, recent files and the command line -------
    def open_paths(self, paths: list[Path]) -> None:
        """Everything that opens files comes here. Even telling a file from a folder is left to a worker:
        a stat on a disconnected network share can block for seconds."""
        self._open_request += 1
        self._start(CollectWorker([Path(p) for p in paths], self._open_request), self.image_pool, INTERACTIVE,
                    self._on_collected)

    @Slot(object)
    def _on_collected(self, collected: Any) -> None:
        worker = self._take()
        if worker is None or worker.request_id != self._open_request:
            return  # a newer open superseded this one while its folders were being walked
        self.input_folders |= input_folders(collected)
        self._trail = AuditTrail(AUDIT_SOURCE)
        files = list(collected.files)
        if collected.folders or files:
            self.opened.emit(collected.folders[0] if collected.folders else files[0].parent)
        if collected.missing and not files:
            self.nothing_found.emit("What was opened no longer exists (moved, renamed or on a disconnected drive).")
            return
        if not files:
            self.nothing_found.emit("No image files were found in what was opened.")
            return
        if len(files) == 1 and not collected.folders:
            self.show_file(files[0])
            return
        self.start_batch(files)

    # ----- the image on screen ---------------------------------------------------------------------------
    def show_file(self, path: Path) -> None:
        """Decode for the viewer (image thread) and score (model thread) at the same time (a DICOM is decoded
        once and handed over, see DecodeHandoff). The model's answer is often ready first; it waits here until
        the image is on screen, so the window always shows the image first and never a result for another
        file."""
        self._request += 1
        for worker in list(self._workers.values()):
            if isinstance(worker, ImageLoadWorker | PredictWorker):
                worker.cancel()
        self.current, self.current_result = None, None
        self._outcome = None
        self.image_loading.emit(Path(path))
        handoff = DecodeHandoff()
        self._start(ImageLoadWorker(Path(path), self._request, handoff), self.image_pool, INTERACTIVE,
                    self._on_image_loaded, self._on_image_failed)
        self._start(PredictWorker(self.session, Path(path), self._request, handoff, self._trail), self.model_pool,
                    INTERACTIVE, self._on_predicted, self._on_predict_failed)

    @Slot(object)
    def _on_image_loaded(self, display: DisplayImage) -> None:
        self._take()
        if display.request_id != self._request:
            return
        self.current = display
        self.image_ready.emit(display)
        self._deliver_outcome()
        # What the first window/level change will need, made on the image thread while the user looks.
        self.run_task(display.levels, lambda _levels: None, lambda message: log.warning("levels: %s", message))

    @Slot(str)
    def _on_image_failed(self, message: str) -> None:
        worker = self._take()
        if isinstance(worker, ImageLoadWorker) and worker.request_id == self._request:
            self.image_failed.emit(worker.path, message)
            request, path = self._request, worker.path
            self.run_task(partial(_header_of, path), partial(self._on_header, request, path),
                          lambda error: log.info("header: %s", error))

    def _on_header(self, request: int, path: Path, metadata: dict[str, Any] | None) -> None:
        if metadata and request == self._request:
            self.image_header.emit(path, metadata)

    @Slot(object)
    def _on_predicted(self, result: PredictionResult) -> None:
        self._take()
        if result.request_id == self._request:
            self._outcome = result
            self._deliver_outcome()

    @Slot(str)
    def _on_predict_failed(self, message: str) -> None:
        worker = self._take()
        if worker is not None and worker.request_id == self._request:
            self._outcome = message
            self._deliver_outcome()

    def _deliver_outcome(self) -> None:
        """Pass on the model's answer once both it and the image on screen are there."""
        display, outcome = self.current, self._outcome
        if display is None or outcome is None:
            return
        self._outcome = None
        if isinstance(outcome, str):
            self.prediction_failed.emit(outcome)
            return
        display.image.adopt_warnings(outcome.image)
        self.current_result = outcome
        if not outcome.audited:
            self.audit_failed.emit()
        self.prediction_ready.emit(outcome)

    # ----- batch ------------------------------------------------------------------------------------------
    def start_batch(self, files: list[Path]) -> None:
        self.cancel_batch(emit=False)
        self._batch_id += 1
        self._batch_cancel = threading.Event()
        self._batch_total, self._batch_done = len(files), 0
        self._batch_started_at = time.perf_counter()
        self._batch_seen = set()
        self.batch_started.emit(list(files))
        self.batch_progress.emit(0, self._batch_total, -1.0)
        numbered = list(enumerate(files))
        self._pending_chunks = deque(numbered[i:i + BATCH_CHUNK] for i in range(0, len(numbered), BATCH_CHUNK))
        self._feed_batch()

    def _feed_batch(self) -> None:
        """Keep a few chunks queued, not all: creating 250 workers at once froze the window for 0.3 s, and
        a short queue lets a cancel drop the rest without running them."""
        while self._pending_chunks and self._queued_chunks < QUEUED_CHUNKS:
            worker = BatchChunkWorker(self.session, self._pending_chunks.popleft(), self._batch_id,
                                      self._batch_cancel, self._trail)
            worker.signals.item.connect(self._on_batch_item)
            self._queued_chunks += 1
            self._start(worker, self.model_pool, BATCH, self._on_chunk_done, self._on_chunk_failed)

    def _chunk_ended(self, worker: Worker | None) -> None:
        if isinstance(worker, BatchChunkWorker):
            self._queued_chunks -= 1
            if worker.request_id == self._batch_id:
                self._feed_batch()

    def batch_running(self) -> bool:
        return self._batch_done < self._batch_total

    def cancel_batch(self, *, emit: bool = True) -> None:
        if not self.batch_running():
            return
        self._batch_cancel.set()
        self._pending_chunks.clear()
        # From here on every signal of this batch carries a stale id and is dropped.
        self._batch_id += 1
        self._batch_total = self._batch_done = 0
        if emit:
            self.batch_finished.emit(True)

    @Slot(object)
    def _on_batch_item(self, result: BatchItemResult) -> None:
        if result.batch_id != self._batch_id or result.index in self._batch_seen:
            return
        self._batch_seen.add(result.index)
        self.batch_item.emit(result)
        self._count_batch_item(result.batch_id)

    @Slot(object)
    def _on_chunk_done(self, _count: int) -> None:
        self._chunk_ended(self._take())

    @Slot(str)
    def _on_chunk_failed(self, message: str) -> None:
        # Only an internal fault gets here (bad files are results); list the chunk's unscored files as failed.
        worker = self._take()
        self._chunk_ended(worker)
        if not isinstance(worker, BatchChunkWorker) or worker.request_id != self._batch_id:
            return
        from pneumo_desktop.core.records import record_from

        for index, path in worker.files:
            if index not in self._batch_seen:
                record = record_from(str(path), None, error=message)
                self._on_batch_item(BatchItemResult(index, worker.request_id, path, record, error=message))

    def _count_batch_item(self, batch_id: int) -> None:
        if batch_id != self._batch_id or not self.batch_running():
            return
        self._batch_done += 1
        elapsed = time.perf_counter() - self._batch_started_at
        remaining = self._batch_total - self._batch_done
        eta = elapsed / self._batch_done * remaining
        self.batch_progress.emit(self._batch_done, self._batch_total, eta)
        if remaining == 0:
            release_free_memory()
            self.batch_finished.emit(False)

    # ----- plain tasks (exports, audit log) ----------------------------------------------------------------
    def run_task(self, function: Callable[[], Any], on_done: Callable[[Any], None],
                 on_error: Callable[[str], None]) -> None:
        """Runs ``function`` on the image pool; exactly one of the callbacks runs, on the GUI thread."""
        worker = TaskWorker(function)
        self._task_callbacks[worker.signals] = (on_done, on_error)
        self._start(worker, self.image_pool, INTERACTIVE, self._on_task_done, self._on_task_failed)

    @Slot(object)
    def _on_task_done(self, value: Any) -> None:
        callbacks = self._task_callbacks.pop(self.sender(), None)
        self._take()
        if callbacks is not None and not self._closing:
            callbacks[0](value)

    @Slot(str)
    def _on_task_failed(self, message: str) -> None:
        callbacks = self._task_callbacks.pop(self.sender(), None)
        self._take()
        if callbacks is not None and not self._closing:
            callbacks[1](message)

    # ----- quitting ------------------------------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = SHUTDOWN_TIMEOUT_MS) -> bool:
        """Cancel everything, then wait; True when every worker stopped in time."""
        self._closing = True
        self._batch_cancel.set()
        self._pending_chunks.clear()
        self._batch_id += 1
        self._request += 1
        for worker in list(self._workers.values()):
            worker.cancel()
        done = self.image_pool.waitForDone(timeout_ms)
        return self.model_pool.waitForDone(timeout_ms) and done

