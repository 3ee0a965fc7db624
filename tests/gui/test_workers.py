"""Every worker has a "finishes" and a "cancels" test; an unexpected `failed` fails the test."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QThreadPool

from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.scoring import read_for_model
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
from tests.gui.conftest import kermany_files, sample

TERMINAL = ("finished", "failed", "cancelled")


def run(qtbot, pool: QThreadPool, worker: Worker, expect: str) -> tuple:
    """Start ``worker`` and return the args of ``expect``; any other terminal signal fails the test."""
    seen: dict[str, tuple] = {}
    for name in TERMINAL:
        getattr(worker.signals, name).connect(lambda *args, name=name: seen.setdefault(name, args))
    with qtbot.waitSignal(getattr(worker.signals, expect), timeout=20_000):
        pool.start(worker)
    assert pool.waitForDone(20_000)
    qtbot.wait(20)  # deliver anything still queued, so a stray second signal would be seen
    assert list(seen) == [expect], f"expected only {expect!r}, got {seen}"
    return seen[expect]


def shown(path: Path) -> DecodeHandoff:
    """The image thread's decode of ``path``, already made."""
    handoff = DecodeHandoff()
    handoff.put(load_image(path))
    return handoff


@pytest.fixture
def session(tiny_model_dir: Path) -> ModelSession:
    return ModelSession(tiny_model_dir)


def test_model_load_finishes(qtbot, pool, session) -> None:
    (card,) = run(qtbot, pool, ModelLoadWorker(session), "finished")
    assert card.name == "tiny-test-model"
    assert session.card is card


def test_model_load_cancels(qtbot, pool, session) -> None:
    worker = ModelLoadWorker(session)
    worker.cancel()
    run(qtbot, pool, worker, "cancelled")


def test_model_load_failure_is_reported_once_and_remembered(qtbot, pool, tmp_path) -> None:
    broken = ModelSession(tmp_path)
    (message,) = run(qtbot, pool, ModelLoadWorker(broken), "failed")
    assert "model card" in message
    (again,) = run(qtbot, pool, ModelLoadWorker(broken), "failed")
    assert again == message


def test_image_load_finishes(qtbot, pool) -> None:
    (display,) = run(qtbot, pool, ImageLoadWorker(sample(), request_id=7), "finished")
    assert isinstance(display, DisplayImage)
    assert display.request_id == 7
    assert display.levels().shape == display.image.shape and display.first_frame.width() == display.image.shape[1]
    assert display.presets[0].name == "Default" and display.presets[-1].name == "Full range"


def test_image_load_cancels(qtbot, pool) -> None:
    worker = ImageLoadWorker(sample(), request_id=1)
    worker.cancel()
    run(qtbot, pool, worker, "cancelled")


def test_image_load_of_a_bad_file_fails_with_its_message(qtbot, pool, tmp_path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 10)
    (message,) = run(qtbot, pool, ImageLoadWorker(bad, request_id=1), "failed")
    assert message.startswith("broken.png:")


def test_predict_finishes_with_a_registered_heatmap(qtbot, pool, session, tiny_predictor) -> None:
    image = read_for_model(sample(), tiny_predictor.size)  # the worker reads the file the model's way itself
    (result,) = run(qtbot, pool, PredictWorker(session, sample(), 3, shown(sample())), "finished")
    assert isinstance(result, PredictionResult) and result.request_id == 3
    assert result.prediction.probability == pytest.approx(tiny_predictor.predict(image).probability, abs=1e-6)
    assert result.image.file_sha256 == image.file_sha256 and result.image.shape == image.shape
    from pneumo_desktop.gui.heatmap_overlay import OVERLAY_MAX_SIDE, overlay_shape

    rows, cols = overlay_shape(image.shape)
    assert result.heatmap.shape == (rows, cols, 4) and result.heatmap.dtype == np.uint8
    assert max(rows, cols) <= max(OVERLAY_MAX_SIDE, *image.shape)
    assert abs(rows / cols - image.shape[0] / image.shape[1]) < 0.01  # same aspect: the view scales it onto the image
    assert result.audited


def test_predict_cancels(qtbot, pool, session) -> None:
    worker = PredictWorker(session, sample(), 1, shown(sample()))
    worker.cancel()
    run(qtbot, pool, worker, "cancelled")


def test_batch_chunk_finishes_with_one_item_per_file(qtbot, pool, session, tmp_path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    files = [*kermany_files(3), bad]
    worker = BatchChunkWorker(session, list(enumerate(files)), batch_id=5, batch_cancel=threading.Event())
    items: list[BatchItemResult] = []
    worker.signals.item.connect(items.append)
    (count,) = run(qtbot, pool, worker, "finished")
    assert count == 4
    assert [item.index for item in items] == [0, 1, 2, 3]
    assert all(item.batch_id == 5 for item in items)
    assert all(item.record["probability"] is not None and item.thumbnail is not None for item in items[:3])
    assert items[3].error and "bad.jpg" in items[3].error and items[3].record["error"] == items[3].error


def test_batch_chunk_cancels_through_the_batch_flag(qtbot, pool, session) -> None:
    flag = threading.Event()
    flag.set()
    worker = BatchChunkWorker(session, list(enumerate(kermany_files(4))), batch_id=1, batch_cancel=flag)
    items: list[BatchItemResult] = []
    worker.signals.item.connect(items.append)
    run(qtbot, pool, worker, "cancelled")
    assert items == []


def test_collect_finishes(qtbot, pool, tmp_path) -> None:
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.dcm").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    (collected,) = run(qtbot, pool, CollectWorker([tmp_path], request_id=0), "finished")
    assert [p.name for p in collected.files] == ["a.png", "b.dcm"]


def test_collect_cancels(qtbot, pool, tmp_path) -> None:
    worker = CollectWorker([tmp_path], request_id=0)
    worker.cancel()
    run(qtbot, pool, worker, "cancelled")


def test_task_finishes(qtbot, pool) -> None:
    (value,) = run(qtbot, pool, TaskWorker(lambda: 41 + 1), "finished")
    assert value == 42


def test_task_cancels_cooperatively_while_running(qtbot, pool) -> None:
    started = threading.Event()
    worker: TaskWorker

    def slow() -> str:
        started.set()
        while not worker.should_stop():
            time.sleep(0.005)
        return "stopped early"

    worker = TaskWorker(slow)
    worker.signals.started.connect(lambda: (started.wait(5), worker.cancel()))
    run(qtbot, pool, worker, "cancelled")


def test_task_failure_is_a_sentence_not_a_traceback(qtbot, pool) -> None:
    def boom() -> None:
        raise ImageLoadError("empty file (0 bytes)", "x.png")

    (message,) = run(qtbot, pool, TaskWorker(boom), "failed")
    assert message == "x.png: empty file (0 bytes)"

    def internal() -> None:
        raise KeyError("secret/patient/path.dcm")

    (message,) = run(qtbot, pool, TaskWorker(internal), "failed")
    assert "KeyError" in message and "patient" not in message
