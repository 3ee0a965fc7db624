"""Issue 13 in the window: a per-user folder that cannot be created must not stop it (it says so once and
still shows images and scores), and special files in a set get errors while the rest finish."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.conftest import WAIT_MS, sample


def test_window_starts_scores_and_says_what_cannot_be_saved(
    qtbot, model_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pneumo_desktop import app, paths

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(paths.HOME_ENV, str(blocker / "home"))
    monkeypatch.setattr(paths, "_UNWRITABLE", {})
    win = app.build()  # raised NotADirectoryError in paths._user_dir before
    qtbot.addWidget(win)
    win.show()
    notice = app.unsaved_notice()
    assert notice.startswith("Settings and the audit log cannot be saved") and str(blocker / "home") in notice
    with qtbot.waitSignal(win.controller.model_ready, timeout=WAIT_MS):
        win.controller.load_model()
    with qtbot.waitSignal(win.controller.prediction_ready, timeout=WAIT_MS):
        win.open_paths([sample()])
    assert win.controller.shutdown(10_000)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_and_a_device_in_a_set_give_errors_while_the_rest_finish(qtbot, window, tmp_path: Path) -> None:
    """Item 1 in the window: the model thread hung on a FIFO before (no result, no error, no audit line)."""
    import os
    import shutil

    from tests.robustness.hostile import special_files

    specials = special_files(tmp_path / "set")
    good = tmp_path / "set" / "good.jpeg"
    shutil.copyfile(sample(), good)
    files = [specials["fifo"], specials["zero"], good]
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS):
        window.open_paths(files)
    rows = {row.path.name: row for row in window.study_list.model.rows}
    assert rows["x.dcm"].state == "error" and "named pipe (FIFO)" in rows["x.dcm"].detail
    assert rows["zero.dcm"].state == "error" and "character device" in rows["zero.dcm"].detail
    assert rows["good.jpeg"].state == "done"
    assert os.path.exists(specials["fifo"])
