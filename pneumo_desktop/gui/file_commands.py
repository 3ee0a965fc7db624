"""File ▸ Open, Open Folder and Open Recent: dialogs that hand their choice to the one open path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QMenu

from pneumo_desktop.gui.settings import Settings

IMAGE_FILTER = "Chest X-rays (*.dcm *.dicom *.png *.jpg *.jpeg *.bmp *.tif *.tiff);;All files (*)"


class FileCommands(QObject):
    def __init__(self, window: Any, settings: Settings, open_paths: Callable[[list[Path]], None]) -> None:
        super().__init__(window)
        self._window = window
        self._settings = settings
        self._open_paths = open_paths
        window.actions.open.triggered.connect(self.open_files)
        window.actions.open_folder.triggered.connect(self.open_folder)
        self._recent_menu: QMenu = window.actions.recent_menu
        self._recent_menu.aboutToShow.connect(self.rebuild_recent)
        self.rebuild_recent()

    def _start_folder(self) -> str:
        return self._settings.last_folder or str(Path.home())

    def open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self._window, "Open chest X-rays", self._start_folder(), IMAGE_FILTER)
        self._back_to_window()
        if files:
            self._open_paths([Path(f) for f in files])

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self._window, "Open a folder of chest X-rays", self._start_folder())
        self._back_to_window()
        if folder:
            self._open_paths([Path(folder)])

    def _back_to_window(self) -> None:
        """Keyboard focus back on the window when a dialog closes: window-wide keys (Esc cancels the batch)
        worked only after a click on the window otherwise."""
        self._window.activateWindow()
        self._window.raise_()
        self._window.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def rebuild_recent(self) -> None:
        menu = self._recent_menu
        menu.clear()
        recent = self._settings.recent_files
        # File and folder names are often patients' names: with hide-PHI the menu says only which entry it is.
        hide = bool(self._window.hide_phi())
        for number, text in enumerate(recent, start=1):
            path = Path(text)
            # Mnemonics 1-9 make the list usable from the keyboard.
            prefix = f"&{number} " if number < 10 else ""
            action = menu.addAction(f"{prefix}{'Recent file (name hidden)' if hide else path.name or text}")
            tip = "" if hide else text
            action.setToolTip(tip)
            action.setStatusTip(tip)
            # No exists() here: a stat on a disconnected share would freeze the menu. A file that has gone
            # is reported by the open itself.
            action.triggered.connect(lambda _=False, p=path: self._open_paths([p]))
        if recent:
            menu.addSeparator()
            menu.addAction("&Clear Recent", self._clear)
        else:
            menu.addAction("(none)").setEnabled(False)

    def _clear(self) -> None:
        self._settings.clear_recent()
        self.rebuild_recent()
