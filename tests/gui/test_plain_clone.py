"""What a first start shows (issue 21): a path that cannot be opened is named and stays named, the first window
fits a small screen, and an idle study list shows no progress bar."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect

from pneumo_desktop import app
from pneumo_desktop.gui.window_layout import WindowLayout
from tests.gui.conftest import WAIT_MS, sample

LAPTOP = QRect(0, 0, 1280, 720)


def _open_missing(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.controller.paths_missing, timeout=WAIT_MS):
        window.open_paths([path])


def test_a_missing_path_is_named_in_the_viewer_and_stays(qtbot, window, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "film.dcm"
    _open_missing(qtbot, window, missing)
    text = window.view.placeholder.text()
    assert window.view.placeholder.isVisible()
    assert text.startswith("Not found: ") and str(missing) in text
    assert "no longer exists" not in text  # it may never have existed
    qtbot.wait(50)
    window.statusBar().clearMessage()  # the status line goes; the viewer keeps saying it
    assert str(missing) in window.view.placeholder.text()
    assert not window.study_list.progress.isVisible()


def test_with_hide_phi_the_missing_path_is_not_named(qtbot, window, tmp_path: Path) -> None:
    window.set_hide_phi(True)
    _open_missing(qtbot, window, tmp_path / "Doe_Jane.dcm")
    assert "Doe_Jane" not in window.view.placeholder.text()
    assert "Not found" in window.view.placeholder.text()


def test_a_missing_path_beside_a_real_film_opens_the_film_and_names_the_other(qtbot, window, tmp_path) -> None:
    missing = tmp_path / "gone.png"
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS), \
            qtbot.waitSignal(window.controller.paths_missing, timeout=WAIT_MS):
        window.open_paths([missing, sample("NORMAL"), sample("PNEUMONIA")])
    assert window.study_list.model.rowCount() == 2


def test_the_command_line_names_a_missing_path_on_the_terminal(qtbot, window, tmp_path: Path, capsys) -> None:
    missing = tmp_path / "no_such_file.png"
    window.controller.paths_missing.connect(app.terminal_notice_of_missing([missing]))
    _open_missing(qtbot, window, missing)
    assert capsys.readouterr().err == f"pneumo-desktop: not found: {missing}\n"
    _open_missing(qtbot, window, tmp_path / "dropped_later.png")  # opened from the window: not printed
    assert capsys.readouterr().err == ""


def test_an_idle_study_list_shows_no_progress_bar(qtbot, window) -> None:
    assert not window.study_list.progress.isVisible()
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([sample()])
    assert not window.study_list.progress.isVisible()


def _inside(window, widget) -> bool:
    top_left = widget.mapTo(window, QPoint(0, 0)) + window.geometry().topLeft()
    return LAPTOP.contains(QRect(top_left, widget.size()))


@pytest.fixture
def laptop_window(qtbot, model_env, monkeypatch: pytest.MonkeyPatch):
    """A first start (no saved geometry) on a 1280×720 screen."""
    monkeypatch.setattr(WindowLayout, "_available_area", lambda self: QRect(LAPTOP))
    win = app.build()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    assert win.controller.shutdown(10_000)


def test_the_first_window_fits_a_1280x720_screen(laptop_window) -> None:
    window = laptop_window
    assert window.width() <= int(1280 * 0.9) and window.height() <= int(720 * 0.9)
    assert LAPTOP.contains(window.geometry())
    assert window.result_dock.isVisible() and _inside(window, window.result_dock)
    assert _inside(window, window.statusBar())


def test_a_saved_geometry_larger_than_the_screen_is_shrunk(qtbot, laptop_window) -> None:
    window = laptop_window
    window.setGeometry(100, 80, 1900, 1040)  # saved on a 1920×1080 monitor
    window.layout_keeper.keep_on_screen()
    assert LAPTOP.contains(window.geometry())
    assert _inside(window, window.statusBar())
