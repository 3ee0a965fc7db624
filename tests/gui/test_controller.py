"""The controller with a fake model session: the image first, then its result; the newest request wins; a
batch reports every file once and stops at once when cancelled; one audit line per file of an opened set;
a result that is never shown leaves no audit line; the window's batch holds decoded pixels by bytes."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pneumo_desktop.core import audit
from pneumo_desktop.core.errors import ModelLoadError
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.gui.controller import Controller
from pneumo_desktop.gui.model_session import ModelSession
from tests.gui.conftest import kermany_files, sample

WAIT_MS = 20_000


@dataclass
class FakePredictor:
    """Scores the mean brightness; records each forward's batch size; ``gate`` holds every forward."""

    size: int = 64
    card: Any = field(default_factory=lambda: SimpleNamespace(
        display_name="fake 1", fingerprint="f" * 64, threshold=0.5, intended_population=None))
    batches: list[int] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.gate.set()

    def _score(self, image: LoadedImage) -> Prediction:
        probability = float(image.pixels.mean())
        return Prediction(probability, "PNEUMONIA" if probability >= 0.5 else "NORMAL", 0.5, "fake 1", "f" * 64,
                          1.0)

    def predict(self, image: LoadedImage, *, heatmap: bool = True, displayed: int | None = None) -> Prediction:
        assert self.gate.wait(WAIT_MS / 1000)
        self.batches.append(1)
        return self._score(image)

    def predict_batch(self, images: Sequence[LoadedImage]) -> list[Prediction]:
        assert self.gate.wait(WAIT_MS / 1000)
        self.batches.append(len(images))
        return [self._score(image) for image in images]


class FakeSession(ModelSession):
    def __init__(self, predictor: FakePredictor | None = None, error: str | None = None) -> None:
        super().__init__()
        self.fake = predictor or FakePredictor()
        self._fail = ModelLoadError(error) if error is not None else None

    @property
    def card(self) -> Any:
        return None if self._fail is not None else self.fake.card

    @property
    def error(self) -> Any:
        return self._fail

    def get(self) -> Any:
        if self._fail is not None:
            raise self._fail
        return self.fake


class Seen:
    """Every controller signal, in order, as (name, args)."""

    NAMES = ("image_ready", "image_failed", "prediction_ready", "prediction_failed", "batch_started", "batch_item",
             "batch_progress", "batch_finished", "nothing_found")

    def __init__(self, controller: Controller) -> None:
        self.events: list[tuple[str, tuple]] = []
        self.threads: set[str] = set()
        for name in self.NAMES:
            getattr(controller, name).connect(lambda *args, name=name: self._seen(name, args))

    def _seen(self, name: str, args: tuple) -> None:
        self.events.append((name, args))
        self.threads.add(threading.current_thread().name)

    def of(self, name: str) -> list[tuple]:
        return [args for n, args in self.events if n == name]

    def names(self) -> list[str]:
        return [n for n, _ in self.events]


@pytest.fixture
def fake() -> FakePredictor:
    return FakePredictor()


@pytest.fixture
def controller(qtbot, fake: FakePredictor) -> Iterator[Controller]:
    c = Controller(FakeSession(fake))
    yield c
    assert c.shutdown(10_000), "workers did not stop"


def audit_lines() -> list[dict[str, Any]]:
    return audit.read_lines(None)


def test_the_image_comes_first_then_its_result_with_one_audit_line(qtbot, controller) -> None:
    seen = Seen(controller)
    with qtbot.waitSignal(controller.prediction_ready, timeout=WAIT_MS):
        controller.show_file(sample())
    assert seen.names() == ["image_ready", "prediction_ready"]
    assert seen.threads == {threading.main_thread().name}
    (result,) = seen.of("prediction_ready")[0]
    assert controller.current is not None and controller.current_result is result
    assert result.prediction.probability == pytest.approx(float(result.image.pixels.mean()))
    assert [line["file_sha256"] for line in audit_lines()] == [controller.current.image.file_sha256]


def test_the_newest_request_wins(qtbot, controller) -> None:
    first, second = kermany_files(2)
    seen = Seen(controller)
    with qtbot.waitSignal(controller.prediction_ready, timeout=WAIT_MS):
        controller.show_file(first)
        controller.show_file(second)
    qtbot.wait(100)  # anything of the first request still queued would arrive now
    assert seen.names() == ["image_ready", "prediction_ready"]
    assert seen.of("image_ready")[0][0].image.path == second
    assert seen.of("prediction_ready")[0][0].image.path == second


def test_a_batch_reports_every_file_once_then_finishes(qtbot, controller, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    files = [*kermany_files(9), bad]
    seen = Seen(controller)
    with qtbot.waitSignal(controller.batch_finished, timeout=WAIT_MS):
        controller.start_batch(files)
    qtbot.wait(50)
    items = [args[0] for args in seen.of("batch_item")]
    assert sorted(item.index for item in items) == list(range(len(files)))
    assert seen.of("batch_progress")[-1][:2] == (len(files), len(files))
    assert seen.of("batch_finished") == [(False,)]
    assert seen.threads == {threading.main_thread().name}  # the window's slots run on the GUI thread
    assert all(item.thumbnail is not None and item.record["probability"] is not None for item in items[:-1])
    assert items[-1].error.startswith("bad.jpg:") and items[-1].record["file_sha256"] is not None
    assert len(audit_lines()) == len(files) - 1


def test_cancel_stops_a_batch_at_once(qtbot, controller, fake: FakePredictor) -> None:
    fake.gate.clear()  # the model thread is held inside the first chunk's forward
    seen = Seen(controller)
    controller.start_batch(kermany_files(12))
    qtbot.wait(100)
    controller.cancel_batch()
    assert not controller.batch_running()
    fake.gate.set()
    assert controller.model_pool.waitForDone(WAIT_MS)
    qtbot.wait(100)
    assert seen.of("batch_item") == []
    assert seen.of("batch_finished") == [(True,)]


def test_an_opened_set_writes_one_audit_line_per_file(qtbot, controller) -> None:
    """The window shows the first file of a set while the batch scores it too: one line, not two."""
    files = kermany_files(2)
    seen = Seen(controller)
    with qtbot.waitSignal(controller.batch_started, timeout=WAIT_MS):
        controller.open_paths(files)
    with qtbot.waitSignals([controller.batch_finished, controller.prediction_ready], timeout=WAIT_MS):
        controller.show_file(files[0])  # as the window does when the list selects its first row
    assert seen.of("batch_finished") == [(False,)]
    assert len(audit_lines()) == 2
    with qtbot.waitSignals([controller.batch_started, controller.batch_finished], timeout=WAIT_MS):
        controller.open_paths(files)  # opening the set again is a new set: its lines are written again
    assert len(audit_lines()) == 4


def test_a_file_changed_between_the_two_reads_is_neither_shown_nor_audited(qtbot, controller, monkeypatch) -> None:
    from pneumo_desktop.core import scoring

    real = scoring.read_for_model

    def other_bytes(path: Path, size: int) -> LoadedImage:
        image = real(path, size)
        image.file_sha256 = "0" * 64
        return image

    monkeypatch.setattr(scoring, "read_for_model", other_bytes)
    seen = Seen(controller)
    with qtbot.waitSignal(controller.prediction_failed, timeout=WAIT_MS) as failed:
        controller.show_file(sample())  # a JPEG: the model reads it again, its own way
    assert "changed while it was being read" in failed.args[0]
    assert "prediction_ready" not in seen.names()
    assert audit_lines() == []


def test_the_window_batch_holds_decoded_pixels_by_bytes(qtbot, controller, fake: FakePredictor, monkeypatch) -> None:
    from pneumo_desktop.core import read_ahead

    with qtbot.waitSignal(controller.batch_finished, timeout=WAIT_MS):
        controller.start_batch(kermany_files(8))
    assert max(fake.batches) > 1  # chunks of several files share a forward pass
    fake.batches.clear()
    monkeypatch.setattr(read_ahead, "MAX_HELD_BYTES", 2)  # any decoded image fills half the budget
    with qtbot.waitSignal(controller.batch_finished, timeout=WAIT_MS):
        controller.start_batch(kermany_files(8))
    assert fake.batches == [1] * 8


def test_without_a_model_images_show_and_rows_say_why(qtbot, tmp_path: Path) -> None:
    controller = Controller(FakeSession(error="The model could not be loaded (test)."))
    try:
        seen = Seen(controller)
        with qtbot.waitSignal(controller.prediction_failed, timeout=WAIT_MS):
            controller.show_file(sample())
        assert seen.names() == ["image_ready", "prediction_failed"]
        with qtbot.waitSignal(controller.batch_finished, timeout=WAIT_MS):
            controller.start_batch(kermany_files(3))
        items = [args[0] for args in seen.of("batch_item")]
        assert len(items) == 3 and all(item.error == "The model could not be loaded (test)." for item in items)
        assert all(item.thumbnail is not None for item in items)
        assert audit_lines() == []
    finally:
        assert controller.shutdown(10_000)


def test_shutdown_stops_a_running_batch(qtbot, controller, fake: FakePredictor) -> None:
    fake.gate.clear()  # the first chunk is mid-forward when the window closes
    seen = Seen(controller)
    controller.start_batch(kermany_files(40))
    qtbot.wait(50)
    threading.Timer(0.2, fake.gate.set).start()
    assert controller.shutdown(10_000)
    qtbot.wait(100)
    assert (False,) not in seen.of("batch_finished")
    assert sum(fake.batches) < 40 and controller.model_pool.activeThreadCount() == 0


def test_a_batch_whose_audit_lines_cannot_be_written_tells_the_window(qtbot, controller) -> None:
    """Issue 26 item 12: a full disk under the audit log. Before, only the film on screen said so; batch rows
    were scored and listed without a word."""
    audit.audit_path().parent.mkdir(parents=True, exist_ok=True)
    audit.audit_path().mkdir()  # nothing can be appended to it
    told: list[int] = []
    controller.audit_failed.connect(lambda: told.append(1))
    files = [sample("NORMAL"), sample("PNEUMONIA")]
    with qtbot.waitSignal(controller.batch_finished, timeout=WAIT_MS):
        controller.open_paths(files)
    assert told, "the window was never told"


def test_a_folder_with_a_link_out_says_so_in_one_notice(qtbot, controller, tmp_path: Path) -> None:
    """Issue 26 items 13-14 in the window: what the walk did not follow or could not read is said, by count."""
    import os
    import shutil

    folder = tmp_path / "set"
    folder.mkdir()
    for source in (sample("NORMAL"), sample("PNEUMONIA")):
        shutil.copy(source, folder / source.name)
    os.symlink("/", folder / "everything")
    notices: list[str] = []
    controller.walk_notice.connect(notices.append)
    with qtbot.waitSignal(controller.batch_finished, timeout=WAIT_MS):
        controller.open_paths([folder])
    assert notices == ["1 link leading out of the folder or back into it was not followed."]
