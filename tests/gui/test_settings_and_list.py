"""QSettings persistence through gui/settings.py, and the study list's triage order and selection."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray

from pneumo_desktop.gui.settings import MAX_RECENT, Settings
from pneumo_desktop.gui.study_list import StudyList, format_eta
from tests.gui.conftest import WAIT_MS


def test_settings_round_trip_through_the_ini_file(tmp_path: Path) -> None:
    first = Settings()
    first.geometry = QByteArray(b"geometry-bytes")
    first.last_folder = tmp_path
    first.overlay_opacity = 0.3
    first.hide_phi = True
    first.heatmap_visible = False
    for i in range(MAX_RECENT + 3):
        first.add_recent(tmp_path / f"{i}.png")
    first.add_recent(tmp_path / "5.png")
    first.sync()
    again = Settings()
    assert bytes(again.geometry) == b"geometry-bytes"
    assert again.last_folder == str(tmp_path)
    assert again.overlay_opacity == 0.3
    assert again.hide_phi is True and again.heatmap_visible is False
    assert len(again.recent_files) == MAX_RECENT
    assert again.recent_files[0] == str(tmp_path / "5.png")


def test_damaged_values_fall_back_to_defaults() -> None:
    s = Settings()
    s._s.setValue("view/overlay_opacity", "not a number")
    s._s.setValue("privacy/hide_phi", "maybe")
    assert s.overlay_opacity == 0.5 and s.hide_phi is False


def test_window_restores_what_it_saved(qtbot, window, model_env) -> None:
    from pneumo_desktop import app

    window.pane.set_opacity(0.8)
    window.pane.heatmap_controls.slider.setValue(80)
    window.set_hide_phi(True)
    window.close()
    second = app.build()
    qtbot.addWidget(second)
    assert second.pane.opacity() == 0.8
    assert second.view.heatmap_item.opacity() == 0.8
    assert second.hide_phi() is True


def test_triage_sort_puts_likely_pneumonia_first_then_rejected_then_errors(qtbot) -> None:
    studies = StudyList()
    qtbot.addWidget(studies)
    paths = [Path(f"/x/{n}.png") for n in "abcde"]
    studies.start(paths)
    studies.set_result(0, {"path": "a", "probability": 0.2}, None, None)
    studies.set_result(1, {"path": "b", "error": "b.png: empty file"}, None, "b.png: empty file")
    studies.set_result(2, {"path": "c", "probability": 0.9}, None, None)
    studies.set_result(3, {"path": "d", "rejected": {"code": "too_small", "reason": "small"}}, None, None)
    studies.sort_by_probability()
    assert [row.path.stem for row in studies.ordered_rows()] == ["c", "a", "d", "b", "e"]
    selected = []
    studies.image_selected.connect(selected.append)
    studies.select_row(0)
    assert selected == [Path("/x/c.png")]
    assert studies.summary.text() == "2 scored, 1 not scored, 1 failed"


def test_eta_text() -> None:
    assert format_eta(-1).startswith("estimating")
    assert format_eta(12.4) == "about 12 s left"
    assert format_eta(600) == "about 10 min left"


def test_selecting_a_row_shows_that_image(qtbot, window, tmp_path) -> None:
    from tests.gui.conftest import study_folder

    folder = study_folder(tmp_path, 3)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS):
        window.open_paths([folder])
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.study_list.select_row(2)
    shown = window.controller.current.image.path
    assert shown == window.study_list.ordered_rows()[2].path
    assert shown.name in window.windowTitle()
