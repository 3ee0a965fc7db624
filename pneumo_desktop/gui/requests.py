"""The owners of the controller's requests (Orange3's ConcurrentMixin shape, HOUSE_STYLE A5).

A Job is one started worker and what its end means to its owner; ``drop()`` cancels the worker and
disconnects it, so an owner that was cancelled never hears from its workers again. The image on screen is a
ShownRequest and a batch a BatchRun: each holds its jobs and is cancelled as a whole, so "the newest request
wins" needs no ids, counters or ``sender()`` look-ups.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pneumo_desktop.core.audit import AuditTrail
from pneumo_desktop.gui.display_image import DisplayImage
from pneumo_desktop.gui.jobs import BatchSignals, DecodeHandoff, PredictionResult
from pneumo_desktop.gui.workers import Worker

BATCH_CHUNK = 4  # files per model-thread job: bounds cancel latency and the wait of an interactive request


class Job:
    """Knows its worker, so no slot needs ``sender()``. Exactly one of ``on_finished`` and ``on_failed`` runs,
    then ``on_ended``; a cancelled worker only ends; a dropped one does neither.

    A plain object: PySide queues a call to a plain method onto the thread of the signal's owner (the worker's
    signals, made on the GUI thread). It refers to its methods weakly, and a call already queued when the job
    was freed crashed the window, so every job is kept (``_unheard``) until its worker's last word, the one
    terminal signal every worker emits, cancelled or not; a dropped job just stops passing calls on. Ending
    also lets go of the callbacks, which refer to their owner, which refers to its jobs: a cycle left to the
    collector may be freed on a worker thread, with a QObject in it (a segfault)."""

    _unheard: set[Job] = set()

    def __init__(self, worker: Worker, on_finished: Callable[[Any], None], on_failed: Callable[[str], None],
                 on_ended: Callable[[Job], None], on_item: Callable[[Any], None] | None = None) -> None:
        self.worker: Worker | None = worker
        self._callbacks: _Callbacks | None = (on_finished, on_failed, on_ended, on_item)
        Job._unheard.add(self)
        signals = worker.signals
        signals.finished.connect(self._finished)
        signals.failed.connect(self._failed)
        signals.cancelled.connect(self._cancelled)
        self._relays_items = on_item is not None and isinstance(signals, BatchSignals)
        if self._relays_items:
            signals.item.connect(self._item)

    @property
    def live(self) -> bool:
        return self._callbacks is not None

    def _finished(self, value: Any) -> None:
        callbacks = self._last_word()
        if callbacks is not None:
            callbacks[0](value)

    def _failed(self, message: str) -> None:
        callbacks = self._last_word()
        if callbacks is not None:
            callbacks[1](message)

    def _cancelled(self) -> None:
        self._last_word()

    def _item(self, value: Any) -> None:
        if self._callbacks is not None and self._callbacks[3] is not None:
            self._callbacks[3](value)

    def _last_word(self) -> _Callbacks | None:
        """The worker has ended: nothing more can be queued for this job. The callbacks, unless dropped."""
        worker, self.worker = self.worker, None
        if worker is not None:
            _disconnect(worker, self)
        Job._unheard.discard(self)
        return self._end()

    def _end(self) -> _Callbacks | None:
        callbacks, self._callbacks = self._callbacks, None
        if callbacks is not None:
            callbacks[2](self)
        return callbacks

    def drop(self) -> None:
        """Cancel the worker; its owner hears nothing more from it."""
        if self.worker is not None:
            self.worker.cancel()
        self._end()


_Callbacks = tuple[Callable[[Any], None], Callable[[str], None], Callable[[Job], None], Callable[[Any], None] | None]


def _disconnect(worker: Worker, job: Job) -> None:
    signals = worker.signals
    pairs: list[tuple[Any, Any]] = [(signals.finished, job._finished), (signals.failed, job._failed),
                                    (signals.cancelled, job._cancelled)]
    if job._relays_items and isinstance(signals, BatchSignals):
        pairs.append((signals.item, job._item))
    for signal, slot in pairs:
        with contextlib.suppress(RuntimeError, TypeError):  # already disconnected
            signal.disconnect(slot)


class ShownRequest:
    """The file on screen: its two jobs (full decode on the image thread, scoring on the model thread), the
    decode handed between them, and the rendezvous of the image and the model's answer."""

    def __init__(self, request_id: int, path: Path) -> None:
        self.id, self.path = request_id, Path(path)
        self.handoff = DecodeHandoff()
        self.jobs: list[Job] = []
        self.display: DisplayImage | None = None
        self.outcome: PredictionResult | str | None = None  # the model's answer, waiting for the image
        self.result: PredictionResult | None = None  # the answer the window shows

    def answer(self) -> PredictionResult | str | None:
        """The model's answer, once, when the image is on screen too (the window shows the image first)."""
        if self.display is None or self.outcome is None:
            return None
        outcome, self.outcome = self.outcome, None
        return outcome

    def cancel(self) -> None:
        for job in self.jobs:
            job.drop()
        self.handoff.withdraw()
        self.jobs.clear()


class BatchRun:
    """One batch: its files in chunks, the cancel flag its chunks share, and what has arrived. The controller
    keeps a few chunks queued (creating 250 workers at once froze the window for 0.3 s, and a short queue lets
    a cancel drop the rest without running them)."""

    def __init__(self, batch_id: int, files: list[Path], trail: AuditTrail, known: frozenset[int] = frozenset()) -> None:
        """``known``: indexes of files whose result the window already has; they are not scored again."""
        self.id, self.trail = batch_id, trail
        self.files = list(files)
        self.total, self.done = len(files), 0
        self.cancel_event = threading.Event()
        numbered = [(i, path) for i, path in enumerate(files) if i not in known]
        self.pending = deque(numbered[i:i + BATCH_CHUNK] for i in range(0, len(numbered), BATCH_CHUNK))
        self.jobs: set[Job] = set()
        self.seen: set[int] = set()
        self.started_at = time.perf_counter()

    @property
    def running(self) -> bool:
        return self.done < self.total and not self.cancel_event.is_set()

    def extend(self, files: list[Path]) -> None:
        """Films that arrived while this batch runs join its queue (a new batch would cancel the rest of this
        one); their indexes follow the ones already there."""
        start = len(self.files)
        self.files += [Path(p) for p in files]
        self.total += len(files)
        numbered = [(start + i, Path(path)) for i, path in enumerate(files)]
        self.pending.extend(numbered[i:i + BATCH_CHUNK] for i in range(0, len(numbered), BATCH_CHUNK))

    def arrived(self, index: int) -> bool:
        """Counts file ``index`` once; False for a second result of it."""
        if index in self.seen:
            return False
        self.seen.add(index)
        self.done += 1
        return True

    def eta(self) -> float:
        elapsed = time.perf_counter() - self.started_at
        return elapsed / self.done * (self.total - self.done) if self.done else -1.0

    def cancel(self) -> None:
        self.cancel_event.set()
        self.pending.clear()
        for job in list(self.jobs):
            job.drop()
        self.jobs.clear()
