"""Owns the worker pools, the model session and the requests; the window only talks to this.

Policy (HOUSE_STYLE A5, F3-F5, Orange3's "new request cancels old"):
- one image pool (loading, folder walking, exports) and one model pool, each with one thread, so the
  Predictor is only ever used from one thread;
- the image on screen is a ShownRequest: a new one cancels the old, which drops its jobs, so nothing of it
  reaches the window; interactive jobs get a higher priority than batch chunks so they jump the batch queue;
- a batch is a BatchRun of chunks sharing a cancel flag; cancelling drops its jobs, so no result of the
  cancelled batch reaches the window after ``cancel_batch()`` returns;
- the files of one opened set share one AuditTrail: a file's batch row and its scoring on screen are one
  audit line.
The window and the exporter read what is shown from ``study`` (Qt-free); signals carry what their slots need.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThreadPool, Signal

from pneumo_desktop.core.audit import AuditTrail
from pneumo_desktop.core.collect import input_folders
from pneumo_desktop.core.scoring_notes import without_scoring_notes
from pneumo_desktop.core.study import Study
from pneumo_desktop.gui.allocator import release_free_memory
from pneumo_desktop.gui.display_image import DisplayImage
from pneumo_desktop.gui.jobs import (
    BatchChunkWorker,
    BatchItemResult,
    CollectWorker,
    ImageLoadWorker,
    ModelLoadWorker,
    PredictionResult,
    PredictWorker,
)
from pneumo_desktop.gui.model_session import ModelSession
from pneumo_desktop.gui.requests import BatchRun, Job, ShownRequest
from pneumo_desktop.gui.workers import StoppableTaskWorker, TaskWorker, Worker

if TYPE_CHECKING:
    from pneumo_desktop.core.collect import Collected
    from pneumo_desktop.core.model_card import ModelCard

log = logging.getLogger(__name__)
INTERACTIVE, BATCH = 10, 0
QUEUED_CHUNKS = 3  # batch jobs waiting on the model thread at any time
SHUTDOWN_TIMEOUT_MS = 5000
AUDIT_SOURCE = "gui"


def _header_of(path: Path) -> dict[str, Any] | None:
    from pneumo_desktop.core.dicom_header import read_header  # pydicom: only when a file failed

    return read_header(path)


def walk_notice(collected: Collected) -> str:
    """One status line about what the folder walk could not reach or did not follow ("" when nothing). No
    names: the status bar honours hide-PHI, and folders are often named after patients."""
    parts = []
    if collected.unreadable:
        count = len(collected.unreadable)
        parts.append(f"{count} folder{'s' if count > 1 else ''} or file{'s' if count > 1 else ''} could not be read "
                     f"({collected.unreadable[0][1]}); films in them are not listed")
    if collected.not_followed:
        count = len(collected.not_followed)
        parts.append(f"{count} link{'s' if count > 1 else ''} leading out of the folder or back into it "
                     f"{'were' if count > 1 else 'was'} not followed")
    return "; ".join(parts) + "." if parts else ""


class Controller(QObject):
    model_ready = Signal(object)  # ModelCard
    model_failed = Signal(str)
    image_loading = Signal(object)  # Path
    image_preview = Signal(object)  # QImage: a J2K film at half resolution, scaled to its size, until image_ready
    image_ready = Signal(object)  # DisplayImage
    image_failed = Signal(object, str)  # Path, message
    image_header = Signal(object, object)  # Path, metadata: the tags of a DICOM whose image failed
    prediction_ready = Signal(object)  # PredictionResult
    prediction_failed = Signal(str)
    batch_started = Signal(list)  # list[Path]: a set the reader opened
    files_added = Signal(list, str)  # list[Path], origin ("received", "retrieved"): listed, never shown unasked
    batch_item = Signal(object)  # BatchItemResult
    batch_progress = Signal(int, int, float)  # done, total, seconds left (-1 unknown)
    batch_finished = Signal(bool)  # True when cancelled
    nothing_found = Signal(str)
    paths_missing = Signal(list)  # list[Path]: given paths that do not exist (named to the user, never guessed at)
    opened = Signal(object)  # the folder the opened inputs live in: where the next Open dialog starts
    audit_failed = Signal()
    walk_notice = Signal(str)  # folders that could not be read, links not followed: said, never silent

    def __init__(self, session: ModelSession | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session or ModelSession()
        self.image_pool = QThreadPool(self)
        self.image_pool.setMaxThreadCount(1)
        self.model_pool = QThreadPool(self)
        self.model_pool.setMaxThreadCount(1)
        # DICOM network jobs wait on peers for seconds: their own threads, so loading and scoring never queue
        # behind a PACS that does not answer.
        self.network_pool = QThreadPool(self)
        self.network_pool.setMaxThreadCount(2)
        self.study = Study()
        self._jobs: set[Job] = set()
        self._opening: Job | None = None
        self._shown: ShownRequest | None = None
        self._batch: BatchRun | None = None
        self._last_id = 0
        # One audit line per file of an opened set: its batch row and its scoring on screen are one result.
        self._trail = AuditTrail(AUDIT_SOURCE)
        self._audit_failures_told = 0
        self._closing = False

    # ----- plumbing ---------------------------------------------------------------------------------
    def _start(self, worker: Worker, pool: QThreadPool, priority: int, on_finished: Callable[[Any], None],
               on_failed: Callable[[str], None] | None = None,
               on_ended: Callable[[Job], None] | None = None, on_item: Callable[[Any], None] | None = None) -> Job:
        def ended(job: Job) -> None:
            self._jobs.discard(job)
            if on_ended is not None:
                on_ended(job)

        job = Job(worker, on_finished, on_failed or self._log_failure, ended, on_item)
        self._jobs.add(job)
        pool.start(worker, priority)
        return job

    def _next_id(self) -> int:
        self._last_id += 1
        return self._last_id

    @staticmethod
    def _log_failure(message: str) -> None:
        log.warning("background task failed: %s", message)

    def busy(self) -> bool:
        return bool(self._jobs)

    @property
    def current(self) -> DisplayImage | None:
        """The image on screen, once it is there."""
        return self._shown.display if self._shown is not None else None

    @property
    def current_result(self) -> PredictionResult | None:
        return self._shown.result if self._shown is not None else None

    # ----- model ----------------------------------------------------------------------------------------
    def load_model(self) -> None:
        self._start(ModelLoadWorker(self.session), self.model_pool, INTERACTIVE + 1, self._on_model_loaded,
                    self._on_model_failed)

    def _on_model_loaded(self, card: ModelCard) -> None:
        self.study.card = card
        self.model_ready.emit(card)

    def _on_model_failed(self, message: str) -> None:
        self.study.model_error = message
        self.model_failed.emit(message)

    # ----- opening: the one path for drop, File>Open, Open Folder, recent files and the command line -------
    def open_paths(self, paths: list[Path]) -> None:
        """Everything that opens files comes here. Even telling a file from a folder is left to a worker:
        a stat on a disconnected network share can block for seconds. A newer open cancels this one."""
        if self._opening is not None:
            self._opening.drop()
        self._opening = self._start(CollectWorker([Path(p) for p in paths], self._next_id()), self.image_pool,
                                    INTERACTIVE, self._on_collected)

    def _on_collected(self, collected: Collected) -> None:
        self._opening = None
        self.study.input_folders |= input_folders(collected)
        self._trail = AuditTrail(AUDIT_SOURCE)  # a new set: its files are audited again
        self._audit_failures_told = 0
        files = list(collected.files)
        if collected.folders or files:
            self.opened.emit(collected.folders[0] if collected.folders else files[0].parent)
        notice = walk_notice(collected)
        if notice:
            self.walk_notice.emit(notice)
        if collected.missing:
            # "Not found", not "no longer exists": a path typed on the command line may never have existed.
            self.paths_missing.emit(list(collected.missing))
            if not files:
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
        once and handed over, see DecodeHandoff). The model's answer is often ready first; it waits in the
        request until the image is on screen, so the window always shows the image first and never a result
        for another file."""
        if self._shown is not None:
            self._shown.cancel()
        request = self._shown = ShownRequest(self._next_id(), Path(path))
        self.study.show(None)
        self.image_loading.emit(request.path)
        request.jobs = [
            self._start(ImageLoadWorker(request.path, request.id, request.handoff, preview=True), self.image_pool,
                        INTERACTIVE, partial(self._on_image_loaded, request), partial(self._on_image_failed, request),
                        on_item=partial(self._on_preview, request)),
            self._start(PredictWorker(self.session, request.path, request.id, request.handoff, self._trail),
                        self.model_pool, INTERACTIVE, partial(self._on_outcome, request),
                        partial(self._on_outcome, request)),
        ]

    def score_as_displayed(self, displayed: int | None) -> None:
        """Score the film on screen again, turned as the reader shows it (an ORIENTATIONS index): the reader's
        orientation is trusted over the model's. ``None``: in the model's own orientation again (its automatic
        reading, as when the film was opened). The decode on screen is reused; what the last scoring noted
        about the orientation goes, so the panel never shows both readings' notes."""
        shown = self._shown
        if shown is None or shown.display is None:
            return
        shown.cancel()
        image = shown.display.image
        image.warnings[:] = without_scoring_notes(image.warnings)
        request = self._shown = ShownRequest(self._next_id(), shown.path)
        request.display = shown.display
        request.handoff.put(image)
        request.jobs = [self._start(
            PredictWorker(self.session, request.path, request.id, request.handoff, self._trail, displayed),
            self.model_pool, INTERACTIVE, partial(self._on_outcome, request), partial(self._on_outcome, request))]

    def _on_preview(self, request: ShownRequest, frame: Any) -> None:
        if request is self._shown and request.display is None:
            self.image_preview.emit(frame)

    def _on_image_loaded(self, request: ShownRequest, display: DisplayImage) -> None:
        request.display = display
        self.study.show(display.image)
        # The model may have been loaded, or failed to load, by a scoring job rather than at start-up.
        self.study.card = self.session.card
        if self.session.error is not None:
            self.study.model_error = str(self.session.error)
        self.image_ready.emit(display)
        self._deliver(request)
        # What the first window/level change will need, made on the image thread while the user looks.
        self.run_task(display.levels, lambda _levels: None, lambda message: log.warning("levels: %s", message))

    def _on_image_failed(self, request: ShownRequest, message: str) -> None:
        self.image_failed.emit(request.path, message)
        request.jobs.append(self.run_task(partial(_header_of, request.path), partial(self._on_header, request.path),
                                          lambda error: log.info("header: %s", error)))

    def _on_header(self, path: Path, metadata: dict[str, Any] | None) -> None:
        if metadata:
            self.image_header.emit(path, metadata)

    def _on_outcome(self, request: ShownRequest, outcome: PredictionResult | str) -> None:
        request.outcome = outcome
        self._deliver(request)

    def _deliver(self, request: ShownRequest) -> None:
        """Pass on the model's answer once both it and the image on screen are there."""
        outcome = request.answer()
        if outcome is None:
            return
        if isinstance(outcome, str):
            self.prediction_failed.emit(outcome)
            return
        self.study.scored(outcome.image, outcome.prediction)
        request.result = outcome
        self._tell_audit_failures()
        self.prediction_ready.emit(outcome)

    # ----- batch ------------------------------------------------------------------------------------------
    def start_batch(self, files: list[Path], known: Mapping[Path, BatchItemResult] | None = None) -> None:
        """Score ``files`` into the study list. ``known``: results the window already has for some of them (films
        received earlier, shown again above the new ones); they are listed as they were, not scored or audited
        a second time."""
        self.cancel_batch(emit=False)
        known = known or {}
        reused = frozenset(i for i, path in enumerate(files) if path in known)
        run = self._batch = BatchRun(self._next_id(), list(files), self._trail, reused)
        self.batch_started.emit(list(files))
        self.batch_progress.emit(0, run.total, -1.0)
        for index in sorted(reused):
            self._on_batch_item(run, dataclasses.replace(known[files[index]], index=index, batch_id=run.id))
        self._feed(run)

    def add_files(self, files: list[Path], origin: str) -> None:
        """Films that arrived without the reader opening them (received over DICOM, retrieved from a PACS): they
        are scored into the study list beside what is there, and nothing on screen changes. A running batch
        takes them into its queue rather than being cancelled."""
        files = [Path(p) for p in files]
        if not files:
            return
        self.files_added.emit(files, origin)
        run = self._batch
        if run is not None and run.running:
            run.extend(files)
        else:
            run = self._batch = BatchRun(self._next_id(), files, self._trail)
        self.batch_progress.emit(run.done, run.total, run.eta())
        self._feed(run)

    def _feed(self, run: BatchRun) -> None:
        while run.pending and len(run.jobs) < QUEUED_CHUNKS:
            worker = BatchChunkWorker(self.session, run.pending.popleft(), run.id, run.cancel_event, run.trail)
            run.jobs.add(self._start(worker, self.model_pool, BATCH, lambda _count: None,
                                     partial(self._on_chunk_failed, run, worker), partial(self._on_chunk_ended, run),
                                     partial(self._on_batch_item, run)))

    def _on_chunk_ended(self, run: BatchRun, job: Job) -> None:
        run.jobs.discard(job)
        if run is self._batch and run.running:
            self._feed(run)

    def batch_running(self) -> bool:
        return self._batch is not None and self._batch.running

    def batch_files(self) -> list[Path]:
        """The files of the running batch, in the order it was started with (empty when none runs)."""
        return list(self._batch.files) if self.batch_running() and self._batch is not None else []

    def cancel_batch(self, *, emit: bool = True) -> None:
        run = self._batch
        if run is None or not run.running:
            return
        run.cancel()
        self._batch = None
        if emit:
            self.batch_finished.emit(True)

    def _on_batch_item(self, run: BatchRun, result: BatchItemResult) -> None:
        if run is not self._batch or not run.arrived(result.index):
            return
        self.batch_item.emit(result)
        self._tell_audit_failures()
        self.batch_progress.emit(run.done, run.total, run.eta())
        if run.done == run.total:
            release_free_memory()
            self.batch_finished.emit(False)

    def _tell_audit_failures(self) -> None:
        """audit_failed once more for each scoring whose audit line could not be written since the last call
        (the trail counts them on the model thread; a batch row has no flag of its own)."""
        failures = self._trail.failures
        if failures > self._audit_failures_told:
            self._audit_failures_told = failures
            self.audit_failed.emit()

    def _on_chunk_failed(self, run: BatchRun, worker: BatchChunkWorker, message: str) -> None:
        # Only an internal fault gets here (bad files are results); list the chunk's unscored files as failed.
        from pneumo_desktop.core.records import record_from

        for index, path in worker.files:
            if index not in run.seen:
                record = record_from(str(path), None, error=message)
                self._on_batch_item(run, BatchItemResult(index, run.id, path, record, error=message))

    # ----- plain tasks (exports, audit log) ----------------------------------------------------------------
    def run_task(self, function: Callable[[], Any], on_done: Callable[[Any], None],
                 on_error: Callable[[str], None]) -> Job:
        """Runs ``function`` on the image pool; exactly one of the callbacks runs, on the GUI thread."""
        return self._start(TaskWorker(function), self.image_pool, INTERACTIVE,
                           partial(self._unless_closing, on_done), partial(self._unless_closing, on_error))

    def run_network(self, function: Callable[[Callable[[], bool]], Any], on_done: Callable[[Any], None],
                    on_error: Callable[[str], None]) -> Job:
        """Runs ``function(should_stop)`` on the network pool; ``drop()`` the job to cancel it (nothing of it
        is heard after that)."""
        return self._start(StoppableTaskWorker(function), self.network_pool, INTERACTIVE,
                           partial(self._unless_closing, on_done), partial(self._unless_closing, on_error))

    def _unless_closing(self, callback: Callable[[Any], None], value: Any) -> None:
        if not self._closing:
            callback(value)

    # ----- quitting ------------------------------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = SHUTDOWN_TIMEOUT_MS) -> bool:
        """Cancel everything, then wait; True when every worker stopped in time."""
        self._closing = True
        if self._batch is not None:
            self._batch.cancel()
        for job in list(self._jobs):
            job.drop()
        done = self.image_pool.waitForDone(timeout_ms)
        done = self.network_pool.waitForDone(timeout_ms) and done
        return self.model_pool.waitForDone(timeout_ms) and done
