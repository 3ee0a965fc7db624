"""GUI fixtures: the real window wired by app.build() on the tiny model, hand-built drops, pool teardown."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QThreadPool, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from tests.conftest import SAMPLES, generic_films

WAIT_MS = 20_000


@pytest.fixture
def model_env(monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path) -> Path:
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    return tiny_model_dir


@pytest.fixture
def window(qtbot, model_env: Path) -> Iterator:
    """The application's window as app.build() wires it, shown, with the model loaded."""
    from pneumo_desktop import app

    win = app.build()
    qtbot.addWidget(win)
    win.dicom_commands._confirm_send = lambda _parent, _question: True  # the "send the film on screen?" box
    win.ask_quit = lambda _parent, _question: True  # "quit and lose the unexported list?"
    win.resize(1200, 800)
    win.show()
    with qtbot.waitSignal(win.controller.model_ready, timeout=WAIT_MS):
        win.controller.load_model()
    yield win
    assert win.controller.shutdown(10_000), "workers did not stop"


@pytest.fixture
def pool() -> Iterator[QThreadPool]:
    """A private one-thread pool like the app's; teardown waits for every worker."""
    p = QThreadPool()
    p.setMaxThreadCount(1)
    yield p
    assert p.waitForDone(10_000), "a worker was still running at teardown"


def mime_for(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drag_enter_event(pos: QPointF, mime: QMimeData) -> QDragEnterEvent:
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    try:  # newer Qt takes a QPointF; the QPoint form is deprecated there
        return QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    except TypeError:
        return QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, buttons, modifiers)


def drop(target: QWidget, paths: list[Path]) -> bool:
    """Drag-enter then drop on ``target`` as a real drag would (qtbot has no drop helper).

    Qt delivers the drop to the widget that accepted the drag-enter, which for any point in the window
    should be the main window. Returns whether the drop was accepted.
    """
    mime = mime_for(paths)
    pos = QPointF(target.width() / 2, target.height() / 2)
    actions = Qt.DropAction.CopyAction
    enter = drag_enter_event(pos, mime)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, event)
    return event.isAccepted()


def sample(kind: str = "PNEUMONIA") -> Path:
    return sorted((SAMPLES / kind).glob("*.jpeg"))[0]


def kermany_files(count: int) -> list[Path]:
    """Small real films (the in-repo Kermany copies and variants of them): see tests.conftest.generic_films."""
    return generic_films(count)


def study_folder(tmp_path: Path, count: int, bad: dict[str, bytes] | None = None) -> Path:
    """A folder of ``count`` small real X-rays plus the given bad files."""
    folder = tmp_path / "studies"
    folder.mkdir()
    for i, src in enumerate(kermany_files(count)):
        shutil.copy(src, folder / f"{i:03d}_{src.name}")
    for name, data in (bad or {}).items():
        (folder / name).write_bytes(data)
    return folder
