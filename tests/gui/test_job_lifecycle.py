"""A Job (gui/requests.py) ends exactly once: a worker that finishes or fails calls its callback and then
``on_ended``; a cancelled worker only ends; a dropped job ends at once and never hears from its worker again,
and every job lets go of its worker (and leaves ``Job._unheard``) at the worker's last word."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import QThreadPool

from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.gui.requests import Job
from pneumo_desktop.gui.workers import TaskWorker, Worker

WAIT_MS = 20_000


class Calls:
    """What the job told its owner, in order."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []

    def job(self, worker: Worker) -> Job:
        return Job(worker, lambda v: self.log.append(("finished", v)), lambda m: self.log.append(("failed", m)),
                   lambda j: self.log.append(("ended", j)))


def _run(qtbot, pool: QThreadPool, worker: Worker, signal: str) -> None:
    with qtbot.waitSignal(getattr(worker.signals, signal), timeout=WAIT_MS):
        pool.start(worker)
    assert pool.waitForDone(WAIT_MS)
    qtbot.wait(20)  # deliver anything still queued, so a second call would be seen


def _raise() -> None:
    raise ImageLoadError("not an image")


def test_a_finished_worker_calls_on_finished_then_on_ended_once(qtbot, pool: QThreadPool) -> None:
    calls = Calls()
    worker = TaskWorker(lambda: 42)
    job = calls.job(worker)
    assert job.live and job in Job._unheard
    _run(qtbot, pool, worker, "finished")
    assert sorted(calls.log, key=lambda call: call[0]) == [("ended", job), ("finished", 42)]
    assert not job.live and job.worker is None and job not in Job._unheard
    worker.signals.finished.emit(43)  # disconnected at the last word: a stray second signal reaches no one
    worker.signals.failed.emit("late")
    qtbot.wait(20)
    assert len(calls.log) == 2


def test_a_failed_worker_calls_on_failed_with_the_sentence_then_ends_once(qtbot, pool: QThreadPool) -> None:
    calls = Calls()
    worker = TaskWorker(_raise)
    job = calls.job(worker)
    _run(qtbot, pool, worker, "failed")
    assert sorted(name for name, _ in calls.log) == ["ended", "failed"]
    assert ("failed", "not an image") in calls.log and ("ended", job) in calls.log
    assert not job.live and job not in Job._unheard


def test_a_cancelled_worker_only_ends(qtbot, pool: QThreadPool) -> None:
    calls = Calls()
    worker = TaskWorker(lambda: 42)
    job = calls.job(worker)
    worker.cancel()  # before it starts: its first checkpoint says cancelled
    _run(qtbot, pool, worker, "cancelled")
    assert calls.log == [("ended", job)]
    assert not job.live and job not in Job._unheard


@pytest.mark.parametrize("then", ["cancelled", "finished"])
def test_a_dropped_job_ends_at_once_and_never_hears_from_its_worker(qtbot, pool: QThreadPool, then: str) -> None:
    """Dropped mid-work: ``on_ended`` runs at the drop, and whatever the worker says last (cancelled at its next
    checkpoint, or finished when it was past its last one) reaches no callback; the job is kept until then."""
    calls = Calls()
    started, release = threading.Event(), threading.Event()

    def work() -> int:
        started.set()
        assert release.wait(WAIT_MS / 1000)
        return 7

    worker = TaskWorker(work)
    if then == "finished":
        worker.checkpoint = lambda: None  # type: ignore[method-assign] - past its last checkpoint
    job = calls.job(worker)
    with qtbot.waitSignal(worker.signals.started, timeout=WAIT_MS):
        pool.start(worker)
    assert started.wait(WAIT_MS / 1000)
    job.drop()
    assert worker.should_stop()
    assert calls.log == [("ended", job)] and not job.live
    assert job in Job._unheard  # its worker has not had its last word yet: a queued call must find the job
    with qtbot.waitSignal(getattr(worker.signals, then), timeout=WAIT_MS):
        release.set()
    assert pool.waitForDone(WAIT_MS)
    qtbot.wait(20)
    assert calls.log == [("ended", job)]
    assert job not in Job._unheard and job.worker is None
    job.drop()  # dropping again is harmless and ends nothing twice
    assert calls.log == [("ended", job)]
