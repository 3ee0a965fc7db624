"""Issue 24 A4: quitting while a batch runs, or with results never exported, asks first and says what would be
lost; after an export, it no longer asks."""

from __future__ import annotations

from pathlib import Path

from pneumo_desktop.gui.export_flow import Exporter
from tests.gui.conftest import WAIT_MS, kermany_files


def test_quitting_mid_batch_or_with_an_unexported_list_asks_first(qtbot, window, tmp_path: Path) -> None:
    asked: list[str] = []
    window.ask_quit = lambda _parent, question: asked.append(question) or False  # "Keep Working"
    files = kermany_files(30)
    window.open_paths(files)
    qtbot.waitUntil(lambda: window.controller.batch_running() and window.study_list.progress.value() > 0,
                    timeout=WAIT_MS)
    window.actions.quit.trigger()
    assert asked and asked[0].startswith("A batch is running: ") and "of 30 films scored" in asked[0]
    assert window.isVisible() and window.controller.batch_running()  # nothing stopped, nothing lost

    qtbot.waitUntil(lambda: not window.controller.batch_running(), timeout=WAIT_MS * 3)
    window.actions.quit.trigger()
    assert "study list's 30 results (never exported" in asked[-1] and window.isVisible()

    out = tmp_path / "out"
    out.mkdir()
    exporter = Exporter(window, window.controller, window.settings, window.study_list,
                        ask_path=lambda _parent, _caption, _suggested, _filter: str(out / "list.csv"))
    exporter.export_csv()
    qtbot.waitUntil(lambda: exporter.last_written is not None, timeout=WAIT_MS)
    assert window.quit_question() is None  # everything in the list is saved: quitting asks nothing
    count = len(asked)
    window.close()
    assert len(asked) == count and not window.isVisible()
