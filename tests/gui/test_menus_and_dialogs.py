"""Menus, shortcuts, accessibility, recent files, the About box and the audit log viewer."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QComboBox,
    QDialog,
    QMenu,
)

from pneumo_desktop import __version__
from pneumo_desktop.core.result_text import percent
from pneumo_desktop.gui.about_dialog import AboutDialog
from pneumo_desktop.gui.audit_dialog import AuditDialog
from tests.gui.conftest import WAIT_MS, sample


def test_every_command_has_a_shortcut_or_mnemonic_and_a_tooltip(window) -> None:
    for menu in window.menuBar().findChildren(QMenu):
        for action in menu.actions():
            if action.isSeparator() or action.menu() is not None or not action.text():
                continue
            assert "&" in action.text() or not action.shortcut().isEmpty(), action.text()
    a = window.actions
    expected = {a.open: "Ctrl+O", a.open_folder: "Ctrl+Shift+O", a.export_pdf: "Ctrl+E", a.fit: "=",
                a.invert: "I", a.rotate_right: "R", a.rotate_left: "L", a.flip_h: "H", a.flip_v: "V",
                a.reset: "Space", a.heatmap: "O", a.hide_phi: "Shift+F12"}
    for action, key in expected.items():
        assert action.shortcut().toString() == key
        assert action.toolTip() and key.replace("Space", "Space") in action.toolTip()


def test_interactive_widgets_carry_accessible_names(window) -> None:
    kinds = (QAbstractButton, QAbstractSlider, QComboBox, QAbstractItemView)
    unnamed = [w for kind in kinds for w in window.findChildren(kind)
               if w.isVisibleTo(window) and not (w.accessibleName() or getattr(w, "text", lambda: "")())]
    # Qt's own internals (scroll bars, dock title buttons, header views) are named by Qt's accessibility layer.
    unnamed = [w for w in unnamed if not w.metaObject().className().startswith(("QScrollBar", "QDockWidgetTitle",
                                                                                "QHeaderView", "QToolBarExtension"))]
    assert unnamed == [], [w.metaObject().className() for w in unnamed]


def test_recent_files_reopen_through_the_same_path(qtbot, window) -> None:
    path = sample()
    with qtbot.waitSignal(window.controller.image_ready, timeout=WAIT_MS):
        window.open_paths([path])
    window.file_commands.rebuild_recent()
    entries = [a for a in window.actions.recent_menu.actions() if a.toolTip() == str(path)]
    assert entries and entries[0].isEnabled()
    with qtbot.waitSignal(window.controller.image_loading, timeout=WAIT_MS) as blocker:
        entries[0].trigger()
    assert blocker.args == [path]

    window.set_hide_phi(True)  # issue 24 C13: the menu no longer names the files
    actions = window.actions.recent_menu.actions()
    said = " ".join(a.text() + a.toolTip() + a.statusTip() for a in actions)
    assert path.name not in said and path.stem not in said and "name hidden" in said
    with qtbot.waitSignal(window.controller.image_loading, timeout=WAIT_MS) as blocker:
        actions[0].trigger()
    assert blocker.args == [path]


def test_about_box_shows_version_model_and_licences(qtbot, window) -> None:
    dialog = AboutDialog(window.controller.session.card)
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert __version__ in text and "tiny-test-model 0.0.0" in text
    assert "LGPL" in text and "does not diagnose" in text
    # What is shipped, from the same source as the bundle's licence index; torch is for training only.
    for shipped in ("onnxruntime", "pynetdicom", "highdicom", "pydicom", "fpdf2"):
        assert shipped in text
    assert "torch" not in text.lower()
    card = window.controller.session.card
    assert f"Decision threshold: {percent(card.threshold)}" in text  # one way to write it (issue 24 B6)


def test_the_result_panel_names_the_model_fingerprint(qtbot, window) -> None:
    """Issue 24 B5: short in the panel, in full in its tooltip, as the PDF and SR carry it."""
    card = window.controller.session.card
    line = window.prediction_panel.model_line
    assert f"fingerprint {card.fingerprint[:12]}" in line.text() and card.fingerprint not in line.text()
    assert card.fingerprint in line.toolTip()


def test_audit_log_viewer_lists_the_gui_prediction(qtbot, window) -> None:
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS) as blocker:
        window.open_paths([sample()])
    sha = window.controller.current.image.file_sha256
    window.actions.audit_log.trigger()
    dialog: AuditDialog = window.help_commands.audit_dialog
    qtbot.waitUntil(lambda: dialog.table.rowCount() >= 1, timeout=WAIT_MS)
    cells = [dialog.table.item(0, c).text() for c in range(dialog.table.columnCount())]
    assert sha in cells and "gui" in cells
    # Written as the panel and the PDFs write it (issue 24 B6), the raw number in the tooltip.
    probability = blocker.args[0].prediction.probability
    assert percent(probability) in cells and f"{probability:.4f}" not in cells
    column = cells.index(percent(probability))
    assert abs(float(dialog.table.item(0, column).toolTip()) - probability) < 1e-4  # as the log stores it
    threshold = blocker.args[0].prediction.threshold
    assert percent(threshold) in cells
    assert sample().name not in " ".join(cells)
    dialog.close()
    assert isinstance(dialog, QDialog)


def test_keys_reference_documents_the_mouse_scheme(window) -> None:
    from pneumo_desktop.gui.keys_dialog import KeysDialog

    window.actions.user_guide.trigger()
    dialog = window.findChild(KeysDialog)
    text = dialog.text.toPlainText()
    assert "Right drag" in text and "window/level" in text and "Shift+F12" in text
    dialog.close()


def test_focus_returns_to_the_window_after_the_open_folder_dialog(qtbot, window, tmp_path, monkeypatch) -> None:
    from PySide6.QtWidgets import QFileDialog, QLineEdit

    other = QLineEdit()  # where focus was left, as after a native dialog that never gave it back
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    other.setFocus()
    opened = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(tmp_path))
    monkeypatch.setattr(window, "open_paths", opened.append)
    window.file_commands._open_paths = opened.append
    window.actions.open_folder.trigger()
    assert opened
    qtbot.waitUntil(lambda: window.view.hasFocus(), timeout=2000)


def test_audit_log_viewer_shows_a_damaged_line_as_damaged(qtbot) -> None:
    """Issue 26 item 12: a line cut short by a full disk is a gap in the trail; it is listed, never skipped."""
    from pneumo_desktop.core import audit

    dialog = AuditDialog("audit.jsonl")
    qtbot.addWidget(dialog)
    dialog.set_entries([{"time": "t1", "source": "cli", "file_sha256": "a" * 64},
                        {"event": audit.DAMAGED_EVENT, "line": 2, "text": '{"time": "2026-12'},
                        {"time": "t3", "source": "gui", "file_sha256": "b" * 64}])
    assert dialog.table.rowCount() == 3
    event = [dialog.table.item(r, 1).text() for r in range(3)]
    assert event == ["prediction", "damaged (line 2)", "prediction"]  # newest first
    assert '{"time": "2026-12' in dialog.table.item(1, 0).toolTip()
    assert "1 damaged line is shown" in dialog.info.text()
