"""The two small dialogs the export commands ask through (PDF/CSV exports and DICOM results alike): replace an
existing file?, and a problem worth a box. The commands take them as arguments, so tests answer for the user."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

Confirm = Callable[[QWidget, str], bool]
Inform = Callable[[QWidget, str], None]


def confirm_replace(parent: QWidget, question: str) -> bool:
    # "a.dcm, b.dcm already exist in …" asks about several files; "a.pdf already exists." about one.
    title = "Replace existing files?" if " exist " in question else "Replace existing file?"
    answer = QMessageBox.question(parent, title, question,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def confirm_send(parent: QWidget, question: str) -> bool:
    answer = QMessageBox.question(parent, "Send results?", question,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def confirm_quit(parent: QWidget, question: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Warning, "Quit pneumo_desktop?", question, parent=parent)
    quit_button = box.addButton("Quit", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Keep Working", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(box.buttons()[-1])
    box.exec()
    return box.clickedButton() is quit_button


def inform(parent: QWidget, message: str) -> None:
    QMessageBox.warning(parent, "pneumo_desktop", message)
