"""Help menu: the key/mouse reference, the audit log viewer and the About box."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox

from pneumo_desktop.gui.about_dialog import AboutDialog
from pneumo_desktop.gui.audit_dialog import AuditDialog
from pneumo_desktop.gui.controller import Controller

AUDIT_LIMIT = 1000
KEYS_HTML = """
<h3>Mouse (PACS scheme, as MITK)</h3>
<table>
<tr><td>Wheel</td><td>zoom about the cursor</td></tr>
<tr><td>Middle drag, or left drag</td><td>pan</td></tr>
<tr><td>Right drag</td><td>window/level: right = wider, down = higher level</td></tr>
<tr><td>Shift + right drag</td><td>pan</td></tr>
<tr><td>Ctrl + right drag</td><td>zoom</td></tr>
</table>
<h3>Keys</h3>
<table>
<tr><td>Ctrl+O / Ctrl+Shift+O</td><td>open files / open a folder (or drop them on the window)</td></tr>
<tr><td>=  /  1  /  Ctrl++ Ctrl+-</td><td>fit / actual pixels / zoom</td></tr>
<tr><td>I</td><td>invert</td></tr>
<tr><td>R / L</td><td>rotate right / left</td></tr>
<tr><td>H / V</td><td>flip horizontally / vertically</td></tr>
<tr><td>Space</td><td>reset the view</td></tr>
<tr><td>F2, F3, …</td><td>window/level presets (default, DICOM presets, full range)</td></tr>
<tr><td>W</td><td>left drag adjusts window/level instead of panning</td></tr>
<tr><td>O</td><td>heatmap overlay on/off</td></tr>
<tr><td>F12 / Shift+F12</td><td>corner text on/off / hide patient data</td></tr>
<tr><td>Ctrl+E / Ctrl+Shift+E / Ctrl+Shift+S</td><td>PDF report / batch summary PDF / batch CSV</td></tr>
<tr><td>Ctrl+T / Esc</td><td>sort batch by probability / cancel batch</td></tr>
<tr><td>Arrow keys (image focused)</td><td>scroll; in the study list: previous/next image</td></tr>
</table>
<p>The heatmap marks the regions that most influenced the score; it is not a lesion outline.</p>
"""


class HelpCommands(QObject):
    def __init__(self, window: Any, controller: Controller) -> None:
        super().__init__(window)
        self._window = window
        self._controller = controller
        self.audit_dialog: AuditDialog | None = None
        window.actions.user_guide.triggered.connect(self.show_keys)
        window.actions.audit_log.triggered.connect(self.show_audit_log)
        window.actions.about.triggered.connect(self.show_about)

    def show_keys(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Keys and mouse", KEYS_HTML, parent=self._window)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.open()

    def show_about(self) -> None:
        session = self._controller.session
        error = str(session.error) if session.error is not None else None
        AboutDialog(session.card, error, self._window).open()

    def show_audit_log(self) -> None:
        from pneumo_desktop.core import audit

        dialog = AuditDialog(str(audit.audit_path()), self._window)
        self.audit_dialog = dialog
        self._controller.run_task(lambda: audit.read_lines(AUDIT_LIMIT), dialog.set_entries, dialog.set_error)
        dialog.open()
