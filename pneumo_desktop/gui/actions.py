"""Every command as a QAction with its shortcut, tooltip and icon, and the menus built from them.

Keys follow OHIF/RadiAnt where they exist: ``=`` fit, ``I`` invert, ``R``/``L`` rotate, ``H``/``V`` flip,
Space reset, Shift+F12 hide patient data, F12 hide the overlay text. ``O`` (overlay) toggles the heatmap
without clashing with them. W/L presets sit on F2.. (RadiAnt).
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QWidget

from pneumo_desktop.gui.icons import icon

PRESET_KEYS = ("F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9")


class Actions:
    def __init__(self, window: QMainWindow) -> None:
        self._window = window
        make = self._make
        StandardKey = QKeySequence.StandardKey  # noqa: N806 - Qt enum alias
        self.open = make("&Open…", StandardKey.Open, "Open chest X-ray files (PNG, JPEG, DICOM)", "open")
        self.open_folder = make("Open &Folder…", "Ctrl+Shift+O", "Open every image in a folder as a batch",
                                "folder")
        self.export_pdf = make("&Export PDF Report…", "Ctrl+E", "Save a PDF report of the image on screen", "pdf")
        self.export_batch_pdf = make("Export &Batch Summary PDF…", "Ctrl+Shift+E",
                                     "Save a PDF table of the batch, most likely pneumonia first", "pdf")
        self.export_csv = make("Export Batch &CSV…", "Ctrl+Shift+S", "Save the study list as CSV", "csv")
        self.export_dicom = make("Export as &DICOM…", "", "Write the result as DICOM for a PACS", "pdf")
        self.send_results = make("Se&nd Results to PACS…", "", "Send the result as DICOM to a configured PACS")
        self.query_retrieve = make("&Query/Retrieve from PACS…", "Ctrl+Shift+Q",
                                   "Search a configured PACS and score a study's chest films")
        self.dicom_nodes = make("DICOM &Nodes…", "", "This app's DICOM node (receiving is off by default) and the "
                                "PACS it may query and send to")
        self.quit = make("&Quit", StandardKey.Quit, "Close pneumo_desktop")

        self.fit = make("&Fit to Window", "=", "Fit the whole image in the window", "fit")
        self.actual_size = make("&Actual Pixels (1:1)", "1", "One image pixel per screen pixel", "actual")
        self.zoom_in = make("Zoom &In", StandardKey.ZoomIn, "Zoom in", "zoom_in")
        self.zoom_out = make("Zoom O&ut", StandardKey.ZoomOut, "Zoom out", "zoom_out")
        self.invert = make("&Invert", "I", "Show the image as a negative", "invert", checkable=True)
        self.rotate_right = make("&Rotate Right", "R", "Rotate 90° clockwise", "rotate_right")
        self.rotate_left = make("Rotate &Left", "L", "Rotate 90° counter-clockwise", "rotate_left")
        self.flip_h = make("Flip &Horizontally", "H", "Mirror left and right", "flip_h")
        self.flip_v = make("Flip &Vertically", "V", "Mirror top and bottom", "flip_v")
        self.reset = make("Re&set View", "Space", "Undo zoom, rotation, flips, invert and window/level", "reset")
        self.score_displayed = make(
            "Score as &Displayed", "Ctrl+Shift+D",
            "Score the film turned and flipped as it is displayed (your orientation, not the model's)")
        self.score_model = make(
            "Score in the &Model's Orientation", "Ctrl+Shift+M",
            "Turn the film back as stored and score it in the orientation the model chooses itself")
        self.left_window = make(
            "Left Drag Adjusts &Window/Level", "W",
            "Left-drag changes window/level instead of panning (right-drag always does)", "contrast",
            checkable=True,
        )
        self.heatmap = make("Heat&map Overlay", "O",
                            "Show the regions that most influenced the score (not lesions)", "heatmap",
                            checkable=True)
        self.overlay_text = make("Overlay &Text", "F12", "Show the text in the image corners", checkable=True)
        self.hide_phi = make(
            "&Hide Patient Data", "Shift+F12",
            "Hide name, ID, birth date, accession number, institution and file names everywhere, "
            "including exported reports", "phi", checkable=True,
        )
        self.reset_layout = make("Reset &Layout", "", "Put the panels back where they start, at their widths")
        self.cancel_batch = make("&Cancel Batch", "Esc", "Stop the running batch", "cancel")
        self.sort_triage = make("&Sort by Probability", "Ctrl+T", "Most likely pneumonia first", "sort")
        self.user_guide = make("&Keys and Mouse…", StandardKey.HelpContents, "Mouse and keyboard reference")
        self.audit_log = make("View &Audit Log…", "", "Show the local log of every prediction")
        self.about = make("&About pneumo_desktop…", "", "Version, model card and licences")
        self.overlay_text.setChecked(True)
        self.recent_menu = QMenu("Open &Recent", window)
        self.preset_menu = QMenu("Window/Level &Presets", window)
        self.preset_actions: list[QAction] = []

    def _make(self, text: str, shortcut: str | QKeySequence.StandardKey, tip: str, icon_name: str = "", *,
              checkable: bool = False) -> QAction:
        action = QAction(text, self._window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        clean = text.replace("&", "").rstrip("…")
        key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({key})" if key else tip)
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        if icon_name:
            action.setIcon(icon(icon_name))
        action.setObjectName(clean)
        # Window-wide, so the keys work whichever panel has focus.
        self._window.addAction(action)
        return action

    def build_menus(self) -> None:
        bar = self._window.menuBar()
        file_menu = bar.addMenu("&File")
        for item in (self.open, self.open_folder, self.recent_menu, None, self.export_pdf, self.export_batch_pdf,
                     self.export_csv, None, self.export_dicom, self.send_results, self.query_retrieve, None,
                     self.quit):
            self._add(file_menu, item)
        view = bar.addMenu("&View")
        for item in (self.fit, self.actual_size, self.zoom_in, self.zoom_out, None, self.invert,
                     self.preset_menu, self.left_window, None, self.rotate_right, self.rotate_left, self.flip_h,
                     self.flip_v, self.reset, self.score_displayed, self.score_model, None, self.heatmap,
                     self.overlay_text, self.hide_phi):
            self._add(view, item)
        self.panels_menu = view.addMenu("&Panels")
        view.addAction(self.reset_layout)
        batch = bar.addMenu("&Batch")
        for item in (self.cancel_batch, self.sort_triage, self.export_csv, self.export_batch_pdf):
            self._add(batch, item)
        settings = bar.addMenu("&Settings")
        settings.addAction(self.dicom_nodes)
        help_menu = bar.addMenu("&Help")
        for item in (self.user_guide, self.audit_log, None, self.about):
            self._add(help_menu, item)

    @staticmethod
    def _add(menu: QMenu, item: QAction | QMenu | None) -> None:
        if item is None:
            menu.addSeparator()
        elif isinstance(item, QMenu):
            menu.addMenu(item)
        else:
            menu.addAction(item)

    def set_presets(self, names: list[str]) -> list[QAction]:
        """Rebuild the preset menu for the image on screen; returns the actions in order."""
        for action in self.preset_actions:
            self._window.removeAction(action)
            action.deleteLater()
        self.preset_menu.clear()
        self.preset_actions = []
        for i, name in enumerate(names):
            action = QAction(name, self._window)
            if i < len(PRESET_KEYS):
                action.setShortcut(QKeySequence(PRESET_KEYS[i]))
            action.setStatusTip(f"Window/level preset: {name}")
            self._window.addAction(action)
            self.preset_menu.addAction(action)
            self.preset_actions.append(action)
        return self.preset_actions

    def build_toolbar(self, preset_widget: QWidget) -> QToolBar:
        bar = QToolBar("Tools", self._window)
        bar.setObjectName("tools")
        bar.setAccessibleName("Tools")
        for item in (self.open, self.open_folder, self.export_pdf, None, self.fit, self.actual_size, self.invert,
                     self.rotate_left, self.rotate_right, self.flip_h, self.flip_v, self.reset, None,
                     preset_widget, None, self.heatmap, self.hide_phi):
            if item is None:
                bar.addSeparator()
            elif isinstance(item, QWidget):
                bar.addWidget(item)
            else:
                bar.addAction(item)
        self._window.addToolBar(bar)
        return bar
