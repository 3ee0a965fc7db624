"""Help menu: the key and mouse reference, the audit log viewer and the About box."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDialog

from pneumo_desktop.gui.about_dialog import AboutDialog
from pneumo_desktop.gui.audit_dialog import AuditDialog
from pneumo_desktop.gui.controller import Controller
from pneumo_desktop.gui.keys_dialog import KeysDialog

AUDIT_LIMIT = 1000


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
        self._open(KeysDialog(self._window))

    def show_about(self) -> None:
        session = self._controller.session
        error = str(session.error) if session.error is not None else None
        self._open(AboutDialog(session.card, error, self._window))

    def show_audit_log(self) -> None:
        from pneumo_desktop.core import audit

        dialog = AuditDialog(str(audit.audit_path()), self._window)
        self.audit_dialog = dialog
        self._controller.run_task(lambda: audit.read_lines(AUDIT_LIMIT), dialog.set_entries, dialog.set_error)
        self._open(dialog)

    @staticmethod
    def _open(dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
