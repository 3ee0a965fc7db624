"""Issue 13, item 9: a per-user folder that cannot be created must not stop the window; it says so once
and still shows images and scores."""

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
