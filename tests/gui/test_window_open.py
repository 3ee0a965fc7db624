"""End to end through the real window: drops, folders, batches, cancel, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from pneumo_desktop.core.scoring import read_for_model, reads_in_full
from tests.conftest import DICOM_DIR
from tests.gui.conftest import WAIT_MS, drag_enter_event, drop, kermany_files, sample, study_folder

BAD_FILES = {
    "empty.png": b"",
    "notes.dcm": b"this is a text file, not DICOM\n",
    "truncated.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20,
}


def test_drop_on_the_image_shows_the_core_prediction(qtbot, window, tiny_predictor) -> None:
    path = sample()
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS) as blocker:
        # Dropped on the image viewport: the window, not the view, takes drops anywhere.
        assert drop(window.view.viewport(), [path])
    shown = blocker.args[0].prediction
    # The model's own reading of the file: the very number the CLI and a batch row give for it.
    expected = tiny_predictor.predict(read_for_model(path, tiny_predictor.size))
    assert shown.probability == pytest.approx(expected.probability, abs=1e-6)
    assert shown.label == expected.label
    panel = window.prediction_panel
    assert panel.headline.text() == f"{100 * expected.probability:.1f} %"
    assert expected.label in panel.label_line.text()
    assert path.name in window.windowTitle()
    assert window.view.display is not None and window.view.display.image.path == path
    assert window.view.has_heatmap()


def test_drop_on_the_prediction_panel_also_opens(qtbot, window) -> None:
    with qtbot.waitSignal(window.controller.image_ready, timeout=WAIT_MS):
        assert drop(window.prediction_panel, [sample("NORMAL")])


def test_a_drop_without_local_files_is_refused(window) -> None:
    from PySide6.QtCore import QMimeData, QPointF
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setText("hello")
    enter = drag_enter_event(QPointF(5, 5), mime)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_folder_drop_fills_the_list_and_finishes(qtbot, window, tmp_path: Path, tiny_predictor) -> None:
    folder = study_folder(tmp_path, 6)
    first_result = []
    window.controller.batch_item.connect(lambda r: first_result.append(window.controller.batch_running()))
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS) as blocker:
        assert drop(window, [folder])
    assert blocker.args == [False]
    model = window.study_list.model
    assert model.rowCount() == 6
    assert model.counts() == {"done": 6, "rejected": 0, "error": 0, "queued": 0, "cancelled": 0}
    assert all(row.probability is not None and row.thumbnail_array is not None for row in model.rows)
    assert not model.index(0, 0).data(Qt.ItemDataRole.DecorationRole).isNull()
    # The list shows the same number the panel shows when the row is opened (the model's own decode).
    for row in model.rows:
        expected = tiny_predictor.predict(read_for_model(row.path, tiny_predictor.size))
        assert row.probability == pytest.approx(expected.probability, abs=1e-5)
    # The first result reached the list while the batch was still running.
    assert first_result[0] is True
    assert window.study_list.progress.value() == 6
    assert window.study_dock.isVisible()


def test_bad_files_show_errors_while_good_ones_finish(qtbot, window, tmp_path: Path) -> None:
    folder = study_folder(tmp_path, 3, BAD_FILES)
    files = sorted(folder.iterdir())
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS):
        window.open_paths(files)  # many files: the same batch path as a folder
    rows = {row.path.name: row for row in window.study_list.model.rows}
    for name in BAD_FILES:
        assert rows[name].state == "error"
        # The row's status says why in full (its name column already names the file, issue 24 C12); the tooltip
        # has both.
        assert name not in rows[name].detail and rows[name].detail
        number = window.study_list.model.rows.index(rows[name])
        tip = window.study_list.model.index(number, 4).data(Qt.ItemDataRole.ToolTipRole)
        assert name in tip and rows[name].detail in tip
    good = [row for name, row in rows.items() if name not in BAD_FILES]
    assert len(good) == 3 and all(row.state == "done" for row in good)
    assert window.study_list.summary.text() == "3 scored, 3 failed"


def test_after_cancel_no_further_result_arrives(qtbot, window, tmp_path: Path) -> None:
    files = kermany_files(40)
    arrived_after_cancel = []
    cancelled = []

    def on_item(_result) -> None:
        if cancelled:
            arrived_after_cancel.append(_result)
        elif window.controller.batch_running():
            window.controller.cancel_batch()
            cancelled.append(True)

    window.controller.batch_item.connect(on_item)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS) as blocker:
        window.open_paths(files)
    assert blocker.args == [True]
    # Let every queued job drain; none of them may reach the window.
    assert window.controller.model_pool.waitForDone(WAIT_MS)
    qtbot.wait(100)
    assert arrived_after_cancel == []
    counts = window.study_list.model.counts()
    assert counts["cancelled"] > 0 and counts["queued"] == 0 and counts["done"] >= 1
    assert "cancelled" in window.study_list.summary.text()
    assert not window.study_list.cancel_button.isEnabled()


def test_a_new_image_request_wins_over_the_old_one(qtbot, window) -> None:
    first, second = sample("NORMAL"), sample("PNEUMONIA")
    shown = []
    window.controller.prediction_ready.connect(lambda r: shown.append(window.controller.current.image.path))
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([first])
        window.open_paths([second])
    window.controller.model_pool.waitForDone(WAIT_MS)
    qtbot.wait(100)
    assert shown == [second]


def test_unreadable_dicom_shows_its_message(qtbot, window) -> None:
    path = DICOM_DIR / "cr_chest_no_pixel_data.dcm"
    with qtbot.waitSignal(window.controller.image_failed, timeout=WAIT_MS) as blocker:
        window.open_paths([path])
    message = blocker.args[1]
    assert "no pixel data" in message
    assert window.prediction_panel.meaning.text() == message
    assert window.statusBar().currentMessage() == message
    assert window.view.display is None


def test_window_without_a_model_still_shows_images(qtbot, monkeypatch, tmp_path: Path) -> None:
    from pneumo_desktop import app

    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tmp_path / "no_model_here"))
    win = app.build()
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.controller.model_failed, timeout=WAIT_MS):
        win.controller.load_model()
    assert "unavailable" in win.model_label.text()
    with qtbot.waitSignal(win.controller.prediction_failed, timeout=WAIT_MS):
        win.open_paths([sample()])
    assert win.view.display is not None
    assert "model" in win.prediction_panel.meaning.text().lower()
    assert win.controller.shutdown(10_000)


def test_a_path_that_does_not_exist_is_named(qtbot, window, tmp_path: Path) -> None:
    with qtbot.waitSignal(window.controller.paths_missing, timeout=WAIT_MS) as blocker:
        window.open_paths([tmp_path / "moved_away.dcm"])
    assert blocker.args[0] == [tmp_path / "moved_away.dcm"]
    assert window.statusBar().currentMessage() == f"Not found: {tmp_path / 'moved_away.dcm'}"


def test_opening_remembers_the_folder_and_a_newer_open_wins(qtbot, window, tmp_path: Path) -> None:
    folder = study_folder(tmp_path, 3)
    single = sample()
    started = []
    window.controller.batch_started.connect(started.append)
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([folder])  # superseded before its walk is handled
        window.open_paths([single])
    window.controller.image_pool.waitForDone(WAIT_MS)
    qtbot.wait(50)
    assert started == []
    assert window.controller.current.image.path == single
    assert window.settings.last_folder == str(single.parent)
    assert window.settings.recent_files[:2] == [str(single), str(folder)]


def test_a_result_that_is_ready_first_waits_for_its_image(qtbot, window, monkeypatch) -> None:
    """Both jobs start at the drop; a slow full-resolution decode must still put the image on screen
    before the probability and heatmap, and both must arrive."""
    import time

    from pneumo_desktop.core import loader

    real_load = loader.load_image

    def slow_load(path: Path):
        time.sleep(0.5)  # the model's own read finishes long before this
        return real_load(path)

    monkeypatch.setattr(loader, "load_image", slow_load)  # the image thread's full decode only
    order: list[str] = []
    controller = window.controller
    controller.image_ready.connect(lambda _d: order.append("image"))
    controller.prediction_ready.connect(lambda _r: order.append("prediction"))
    with qtbot.waitSignal(controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([sample()])
    assert order == ["image", "prediction"]
    assert window.view.has_heatmap() and "%" in window.prediction_panel.headline.text()


def test_a_file_that_changes_between_the_two_reads_gets_no_number(qtbot, window, monkeypatch) -> None:
    from dataclasses import replace

    from pneumo_desktop.core import scoring

    real_read = scoring.read_for_model

    def other_bytes(path, size):
        return replace(real_read(path, size), file_sha256="0" * 64)

    monkeypatch.setattr(scoring, "read_for_model", other_bytes)
    with qtbot.waitSignal(window.controller.prediction_failed, timeout=WAIT_MS) as blocker:
        window.open_paths([sample()])
    assert "changed while it was being read" in blocker.args[0]
    assert window.controller.current_result is None
    assert "%" not in window.prediction_panel.headline.text() and not window.view.has_heatmap()


def test_a_warning_found_while_scoring_reaches_the_image_and_status(qtbot, window, monkeypatch) -> None:
    from pneumo_desktop.core import scoring

    real_read = scoring.read_for_model

    def flagged(path, size):
        image = real_read(path, size)
        image.warnings.append("scored inverted (test)")
        return image

    monkeypatch.setattr(scoring, "read_for_model", flagged)
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([sample()])
    assert window.controller.current.image.warnings.count("scored inverted (test)") == 1
    # Shown as a sentence, in the status line and, for as long as the result is shown, in the panel.
    assert "Scored inverted (test)" in window.statusBar().currentMessage()
    assert "Scored inverted (test)" in window.prediction_panel.warnings()


def test_a_dicom_is_decoded_once_and_scores_as_the_cli_would(qtbot, window, tiny_predictor, monkeypatch) -> None:
    """Every format but JPEG is read by the model in full, so the model thread takes the image thread's decode
    (DecodeHandoff) instead of decoding the file a second time."""
    from pneumo_desktop.core import dicom_reader

    path = DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm"
    expected = tiny_predictor.predict(read_for_model(path, tiny_predictor.size))
    real_read = dicom_reader.read_dicom
    calls: list[str] = []

    def counted(*args, **kwargs):
        calls.append("decode")
        return real_read(*args, **kwargs)

    monkeypatch.setattr(dicom_reader, "read_dicom", counted)
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS) as blocker:
        window.open_paths([path])
    assert calls == ["decode"]
    assert blocker.args[0].prediction.probability == pytest.approx(expected.probability, abs=1e-6)
    assert window.view.has_heatmap()


def test_a_jpeg_is_read_the_models_way_beside_the_full_decode(qtbot, window, tiny_predictor) -> None:
    path = sample()
    assert not reads_in_full(path)
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS) as blocker:
        window.open_paths([path])
    scored = blocker.args[0].image
    assert scored.shape == read_for_model(path, tiny_predictor.size).shape
    assert "decoded_size" in scored.metadata and scored.shape != window.controller.current.image.shape


def test_the_heatmap_strength_follows_the_score(qtbot, window, monkeypatch) -> None:
    from pneumo_desktop.core.heatmap_render import score_strength
    from pneumo_desktop.core.prediction import Prediction

    # A map at full strength everywhere (the tiny test model's own Grad-CAM may be flat).
    monkeypatch.setattr(Prediction, "heatmap", lambda self, shape: np.ones(shape, np.float32))
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS) as blocker:
        window.open_paths([sample("NORMAL")])
    prediction = blocker.args[0].prediction
    strength = score_strength(prediction.probability, prediction.threshold)
    assert 0 < strength < 1
    assert blocker.args[0].heatmap[..., 3].max() / 255.0 == pytest.approx(strength, abs=1 / 255)
    assert "faint when the score is low" in window.pane.heatmap_controls.caption.text()


def test_cancel_batch_is_enabled_only_while_a_batch_runs_and_status_parts_read_as_sentences(qtbot, window) -> None:
    """Issue 24 C15."""
    from pneumo_desktop.gui.main_window import sentences

    assert not window.actions.cancel_batch.isEnabled()
    window.open_paths(kermany_files(6))
    qtbot.waitUntil(lambda: window.controller.batch_running(), timeout=WAIT_MS)
    assert window.actions.cancel_batch.isEnabled()
    qtbot.waitUntil(lambda: not window.controller.batch_running(), timeout=WAIT_MS)
    qtbot.wait(50)
    assert not window.actions.cancel_batch.isEnabled()
    assert sentences(["a.dcm: 82.4 % (NORMAL) in 30 ms", "Lossy.", "Age unknown …"]) == \
        "a.dcm: 82.4 % (NORMAL) in 30 ms. Lossy. Age unknown …"
