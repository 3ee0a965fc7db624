"""The study list's highlight follows the image on screen, and a click on any row shows that row."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from tests.gui.conftest import WAIT_MS, sample, study_folder


def _selected_paths(window) -> list[Path]:
    studies = window.study_list
    rows = {i.row() for i in studies.table.selectionModel().selectedRows()}
    ordered = studies.ordered_rows()
    return [ordered[r].path for r in sorted(rows)]


def _click(qtbot, window, row: int) -> None:
    table = window.study_list.table
    rect = table.visualRect(window.study_list.proxy.index(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_selection_follows_the_displayed_image_and_every_click_shows_its_row(qtbot, window, tmp_path) -> None:
    folder = study_folder(tmp_path, 3)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS):
        window.open_paths([folder])
    rows = window.study_list.ordered_rows()
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        _click(qtbot, window, 1)
    assert _selected_paths(window) == [rows[1].path]

    # Ctrl+O of a file that is not in the list: no row stays highlighted.
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([sample()])
    assert _selected_paths(window) == []

    # The row that was highlighted before loads on a click.
    with qtbot.waitSignal(window.controller.image_loading, timeout=WAIT_MS) as blocker:
        _click(qtbot, window, 1)
    assert blocker.args == [rows[1].path]
    qtbot.waitUntil(lambda: window.controller.current is not None, timeout=WAIT_MS)
    assert _selected_paths(window) == [rows[1].path]

    # Opening a listed file another way (recent files, a drop) selects its row.
    with qtbot.waitSignal(window.controller.image_ready, timeout=WAIT_MS):
        window.controller.show_file(rows[2].path)
    assert _selected_paths(window) == [rows[2].path]


def test_clicking_the_row_already_shown_does_not_reload_it(qtbot, window, tmp_path) -> None:
    folder = study_folder(tmp_path, 2)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS):
        window.open_paths([folder])
    qtbot.waitUntil(lambda: window.controller.current_result is not None, timeout=WAIT_MS)
    loads: list[Path] = []
    window.controller.image_loading.connect(loads.append)
    shown = window.controller.current.image.path
    row = [r.path for r in window.study_list.ordered_rows()].index(shown)
    _click(qtbot, window, row)
    qtbot.wait(50)
    assert loads == []
