"""The main window: lays out the viewer, panels, menus and status bar, and turns controller signals into
what the user sees. It builds only its own child widgets; app.py builds and injects the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, Qt, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtWidgets import QComboBox, QDockWidget, QLabel, QMainWindow, QScrollArea, QVBoxLayout, QWidget

from pneumo_desktop import APP_NAME
from pneumo_desktop.core.result_text import percent
from pneumo_desktop.core.score_warnings import score_warnings
from pneumo_desktop.gui.actions import Actions
from pneumo_desktop.gui.controller import Controller
from pneumo_desktop.gui.dicom_panel import DicomPanel
from pneumo_desktop.gui.display_image import DisplayImage
from pneumo_desktop.gui.jobs import BatchItemResult, PredictionResult
from pneumo_desktop.gui.phi import file_label, scrub
from pneumo_desktop.gui.prediction_panel import PredictionPanel
from pneumo_desktop.gui.questions import Confirm, confirm_quit
from pneumo_desktop.gui.settings import Settings
from pneumo_desktop.gui.study_list import StudyList
from pneumo_desktop.gui.viewer_pane import ViewerPane
from pneumo_desktop.gui.window_layout import STUDY_DOCK_WIDTH, WindowLayout, result_min_width

STATUS_TIMEOUT_MS = 8000
EMPTY_VIEW = "Drop chest X-ray files or folders here, or use File ▸ Open (Ctrl+O)."


def without_file_name(message: str, path: Path) -> str:
    """Load errors start with "name: "; where the name is shown on its own, the rest is the reason."""
    prefix = f"{Path(path).name}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def sentences(parts: list[str]) -> str:
    """Status-bar parts as sentences ("82.4 % (NORMAL) in 30 ms. The DICOM pixel data …"), never ".;"."""
    return " ".join(part if part.endswith((".", "!", "?", "…")) else f"{part}." for part in parts if part)


def local_paths(mime: QMimeData) -> list[Path]:
    """The local files/folders in a drag; web URLs and other payloads are ignored."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if isinstance(url, QUrl) and url.isLocalFile()]


class MainWindow(QMainWindow):
    closing = Signal()  # before the workers stop: what listens on the network closes its port

    def __init__(self, controller: Controller, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.settings = settings
        self.setObjectName("main_window")
        self.setAcceptDrops(True)
        self.actions = Actions(self)
        self.actions.build_menus()
        self.pane = ViewerPane(self.actions.heatmap, self)
        self.view = self.pane.view
        self.pane.set_display(None, EMPTY_VIEW)
        self.setCentralWidget(self.pane)

        self.prediction_panel = PredictionPanel(self)
        self.dicom_panel = DicomPanel(self)
        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.prediction_panel)
        side_layout.addWidget(self.dicom_panel, 1)
        scroll = QScrollArea(self)
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        self.result_dock = self._dock("Result", "result_dock", scroll, Qt.DockWidgetArea.RightDockWidgetArea)
        self.study_list = StudyList(self)
        self.study_dock = self._dock("Studies", "study_dock", self.study_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.study_dock.hide()

        self.preset_combo = QComboBox(self)
        self.preset_combo.setAccessibleName("Window/level preset")
        self.preset_combo.setToolTip("Window/level preset (F2, F3, …)")
        self.preset_combo.setMinimumContentsLength(20)
        self.preset_combo.setPlaceholderText("Custom")  # shown when a drag set a window no preset names
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.actions.build_toolbar(self.preset_combo)
        # Stays while the image is shown, unlike status messages: hovering lists every warning.
        self.warning_label = QLabel(self)
        self.warning_label.setObjectName("status_warnings")
        self.warning_label.setAccessibleName("Warnings about this result")
        self.warning_label.setProperty("role", "warning")
        self.warning_label.hide()
        self.statusBar().addPermanentWidget(self.warning_label)
        self.model_label = QLabel("Model: loading…", self)
        self.model_label.setAccessibleName("Model status")
        self.statusBar().addPermanentWidget(self.model_label)

        self.layout_keeper = WindowLayout(
            self, self.result_dock, self.study_dock,
            result_min_width(self.prediction_panel.headline, self.prediction_panel.label_line),
            self.study_list.minimum_width())
        self.layout_keeper.capture_default()
        self._current_path: Path | None = None
        self._failure: str | None = None  # why the file on screen could not be shown
        self._arrived: dict[str, int] = {}
        self.ask_quit: Confirm = confirm_quit  # tests answer for the reader
        self._fits = True  # the result on screen matches the view's orientation (_follow_orientation)  # films that joined the running batch unasked, by origin
        self._wire()
        self.actions.cancel_batch.setEnabled(False)  # until a batch runs
        self._restore()
        self._refresh_identity()
        self.status("Drop chest X-ray files or folders anywhere on this window, or use File ▸ Open.")

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setAccessibleName(f"{title} panel")
        self.addDockWidget(area, dock)
        toggle = dock.toggleViewAction()
        toggle.setText(f"&{title} Panel")
        toggle.setStatusTip(f"Show or hide the {title.lower()} panel")
        self.actions.panels_menu.addAction(toggle)
        return dock

    def _wire(self) -> None:
        a, v, c, pane = self.actions, self.view, self.controller, self.pane
        a.fit.triggered.connect(v.fit)
        a.actual_size.triggered.connect(v.actual_size)
        a.zoom_in.triggered.connect(lambda: v.zoom_by(1.25))
        a.zoom_out.triggered.connect(lambda: v.zoom_by(0.8))
        a.invert.toggled.connect(v.set_inverted)
        a.rotate_right.triggered.connect(lambda: v.rotate_by(90))
        a.rotate_left.triggered.connect(lambda: v.rotate_by(-90))
        a.flip_h.triggered.connect(lambda: v.flip(True))
        a.flip_v.triggered.connect(lambda: v.flip(False))
        a.reset.triggered.connect(self._reset_view)
        a.score_displayed.triggered.connect(self._score_as_displayed)
        a.score_model.triggered.connect(self._score_in_model_orientation)
        v.view_changed.connect(self._follow_orientation)
        v.view_changed.connect(self._sync_preset_box)
        a.left_window.toggled.connect(lambda on: setattr(v, "left_button_windows", on))
        a.heatmap.toggled.connect(self._set_heatmap_visible)
        a.overlay_text.toggled.connect(v.overlay.set_visible)
        a.hide_phi.toggled.connect(self.set_hide_phi)
        a.cancel_batch.triggered.connect(c.cancel_batch)
        a.sort_triage.triggered.connect(self._sort_triage)
        a.quit.triggered.connect(self.close)
        a.reset_layout.triggered.connect(self.layout_keeper.reset)
        self.preset_combo.activated.connect(pane.apply_preset)
        pane.preset_applied.connect(self.preset_combo.setCurrentIndex)
        pane.heatmap_controls.opacity_changed.connect(lambda o: setattr(self.settings, "overlay_opacity", o))
        self.study_list.image_selected.connect(c.show_file)
        self.study_list.cancel_requested.connect(c.cancel_batch)
        self.dicom_panel.toggle.toggled.connect(lambda on: setattr(self.settings, "dicom_panel_expanded", on))
        c.model_ready.connect(self._on_model_ready)
        c.model_failed.connect(self._on_model_failed)
        c.image_loading.connect(self._on_image_loading)
        c.image_preview.connect(self._on_image_preview)
        c.image_ready.connect(self._on_image_ready)
        c.image_failed.connect(self._on_image_failed)
        c.image_header.connect(self._on_image_header)
        c.prediction_ready.connect(self._on_prediction)
        c.prediction_failed.connect(self._on_prediction_failed)
        c.batch_started.connect(self._on_batch_started)
        c.batch_started.connect(lambda _paths: a.cancel_batch.setEnabled(True))
        c.files_added.connect(lambda _paths, _origin: a.cancel_batch.setEnabled(True))
        c.batch_finished.connect(lambda _cancelled: a.cancel_batch.setEnabled(False))
        c.files_added.connect(self._on_files_added)
        c.batch_item.connect(self._on_batch_item)
        c.batch_progress.connect(self.study_list.set_progress)
        c.batch_finished.connect(self._on_batch_finished)
        c.nothing_found.connect(self._on_nothing_found)
        c.paths_missing.connect(self._on_paths_missing)
        c.walk_notice.connect(self.status)
        c.opened.connect(self._remember_folder)
        c.audit_failed.connect(lambda: self.status("Warning: the audit log could not be written (is the disk full?): "
                                                   "results are shown but missing from the audit trail."))

    def _restore(self) -> None:
        s = self.settings
        self.layout_keeper.restore(s.geometry, s.window_state)
        self.pane.set_opacity(s.overlay_opacity)
        self.actions.heatmap.setChecked(s.heatmap_visible)
        self._set_heatmap_visible(s.heatmap_visible)
        self.actions.hide_phi.setChecked(s.hide_phi)
        self.set_hide_phi(s.hide_phi)
        self.dicom_panel.set_expanded(s.dicom_panel_expanded)

    def save_settings(self) -> None:
        self.settings.geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        self.settings.overlay_opacity = self.pane.opacity()
        self.settings.sync()

    # ----- opening: every route (drop, menus, recent files, command line) ends here ----------------------
    def open_paths(self, paths: list[Path] | list[str]) -> None:
        clean = [Path(p) for p in paths if str(p)]
        if not clean:
            return
        for path in clean:
            self.settings.add_recent(path)
        self.controller.open_paths(clean)

    def _remember_folder(self, folder: Path) -> None:
        self.settings.last_folder = str(folder)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt override
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_paths(paths)

    # ----- controller signals ------------------------------------------------------------------------------
    def _on_model_ready(self, card: Any) -> None:
        self.prediction_panel.show_card(card)
        self.model_label.setText(f"Model: {card.display_name}")
        if self.controller.study.image is not None:  # the card brings the intended population to check against
            self.prediction_panel.set_warnings(self._show_warnings())

    def _on_model_failed(self, message: str) -> None:
        self.prediction_panel.show_card(None, unavailable=f"Model unavailable: {message}")
        self.model_label.setText("Model unavailable: images can still be viewed")
        self.status(f"The model could not be loaded: {message}")

    def _on_image_loading(self, path: Path) -> None:
        self._current_path = Path(path)
        self._failure = None
        self.study_list.follow(self._current_path)
        self._show_warnings()
        self.prediction_panel.show_busy("Loading image…")
        self.status(f"Loading {self._label()}…")

    def _on_image_preview(self, frame: QImage) -> None:
        # No patient anywhere: this film's header is not read yet, and the previous film's tags and patient lines
        # must not stay beside it.
        self.pane.show_preview(frame)
        self.dicom_panel.show_loading()
        self._refresh_identity()

    def _on_image_ready(self, display: DisplayImage) -> None:
        self.pane.set_display(display)
        self.actions.invert.setChecked(False)
        names = [p.name for p in display.presets]
        for i, action in enumerate(self.actions.set_presets(names)):
            action.triggered.connect(lambda _=False, i=i: self.pane.apply_preset(i))
        self._sync_preset_box()
        self.dicom_panel.set_metadata(display.image.metadata, display.image.kind)
        unavailable = self.controller.study.model_error is not None
        self.prediction_panel.show_busy(
            "Model unavailable: the image is shown without a probability." if unavailable else "Analysing…"
        )
        self._refresh_identity()
        # Before the result: the decode's and the population's warnings already apply to what is on screen.
        warnings = self._show_warnings()
        self.prediction_panel.set_warnings(warnings)
        if warnings:
            self.status(sentences(warnings))

    def _on_image_failed(self, path: Path, message: str) -> None:
        self._current_path, self._failure = Path(path), message
        self._show_warnings()
        # Never the previous image under this file's name: the view says which file failed and why.
        self.pane.set_display(None, self._failure_text())
        self.dicom_panel.set_metadata(None, "")
        self.prediction_panel.show_error(scrub(message, path, self.hide_phi()))
        self._refresh_identity()
        self.status(message, path)

    def _failure_text(self) -> str:
        if self._failure is None or self._current_path is None:
            return ""
        reason = scrub(without_file_name(self._failure, self._current_path), self._current_path, self.hide_phi())
        return f"{self._label()}\n\ncannot be shown: {reason}"

    def _on_image_header(self, path: Path, metadata: dict[str, Any]) -> None:
        if Path(path) == self._current_path:
            self.dicom_panel.set_metadata(metadata, "dicom", displayable=False)
            self.pane.set_header(metadata, self._label(), self.hide_phi())

    def _on_prediction(self, result: PredictionResult) -> None:
        self._fits = True
        warnings = self._show_warnings()
        self.prediction_panel.show_prediction(result.prediction, warnings)
        self.view.set_heatmap(result.heatmap)
        p = result.prediction
        if p.rejected is not None:
            message = f"Not scored: {p.rejected.reason}"
        else:
            message = f"{self._label()}: {percent(p.probability)} ({p.label}) in {p.elapsed_ms:.0f} ms"
        # The image's warnings again, with any scoring added (polarity): the result usually arrives right after
        # the image, so the status line the image set is replaced at once.
        self.status(sentences([message, *warnings]))

    def _on_prediction_failed(self, message: str) -> None:
        self.prediction_panel.show_error(scrub(message, self._current_path, self.hide_phi()))
        self.prediction_panel.set_warnings(self._show_warnings())  # what the decode noted still holds
        self.status(message)

    def _on_batch_started(self, paths: list[Path]) -> None:
        self._show_studies()
        self.study_list.start(paths)
        self.status(f"Analysing {len(paths)} images…")
        if paths:
            self.study_list.select_path(paths[0])

    def _on_files_added(self, paths: list[Path], origin: str) -> None:
        """Arrived films are listed, never shown: what is on screen (film, result, selected row) stays the
        reader's choice. The announcement is the receiver's or the retrieve's to make."""
        self._show_studies()
        self.study_list.add(paths, origin)
        self._arrived[origin] = self._arrived.get(origin, 0) + len(paths)

    def _on_batch_item(self, result: BatchItemResult) -> None:
        self.study_list.set_result_for(result.path, result.record, result.thumbnail, result.error, result.metadata)
        if result.error:
            self.status(result.error, result.path)

    def _on_batch_finished(self, cancelled: bool) -> None:
        self.study_list.finish(cancelled)
        arrived, self._arrived = self._arrived, {}
        if arrived and not cancelled:
            said = " and ".join(f"{n} {origin}" for origin, n in arrived.items())
            self.status(f"Scored {said} film{'' if sum(arrived.values()) == 1 else 's'}: listed on top of the study "
                        "list; the film on screen is unchanged. Click one to show it.")
            return
        self.status("Batch cancelled; results so far are kept." if cancelled else "Batch finished.")

    # ----- view helpers -------------------------------------------------------------------------------------
    def _score_as_displayed(self) -> None:
        """The reader turned or flipped the film in the viewer and says: this is upright; score it so."""
        from pneumo_desktop.core.orientation import orientation_of_view

        m = self.view.orientation()
        self.controller.score_as_displayed(orientation_of_view(m.m11(), m.m12(), m.m21(), m.m22()))

    def _sync_preset_box(self) -> None:
        """The preset box names the window of the film on screen: its preset, or "Custom" after a drag; never
        the previous film's choice."""
        display = self.view.display
        names = [p.name for p in display.presets] if display is not None else []
        if [self.preset_combo.itemText(i) for i in range(self.preset_combo.count())] != names:
            self.preset_combo.clear()
            self.preset_combo.addItems(names)
        name = self.view.window()[2]
        index = names.index(name) if name in names and name != "Custom" else -1
        if self.preset_combo.currentIndex() != index:
            self.preset_combo.setCurrentIndex(index)

    def _shown_orientation(self) -> int:
        from pneumo_desktop.core.orientation import orientation_of_view

        m = self.view.orientation()
        return orientation_of_view(m.m11(), m.m12(), m.m21(), m.m22())

    def _result_fits_view(self) -> bool:
        """A result scored as displayed belongs to the orientation it was scored in; the model's own reading
        belongs to the film as stored, whichever way the reader turns the view."""
        result = self.controller.current_result
        displayed = result.prediction.displayed if result is not None else None
        return displayed is None or self.view.display is None or self._shown_orientation() == displayed

    def _follow_orientation(self) -> None:
        """After a turn, flip or reset: a reader-oriented result that no longer matches the view is replaced by
        "for another orientation" (no number, no heatmap) until it matches again or is scored again."""
        result = self.controller.current_result
        if result is None or result.prediction.displayed is None:
            return
        fits = self._result_fits_view()
        if fits == self._fits:
            return
        self._fits = fits
        warnings = self._show_warnings()
        if fits:
            self.prediction_panel.show_prediction(result.prediction, warnings)
            self.view.set_heatmap(result.heatmap)
        else:
            self.prediction_panel.show_other_orientation(result.prediction, warnings)
            self.view.set_heatmap(None)
            self.status("The result was for another orientation: Ctrl+Shift+D scores the film as displayed, "
                        "Ctrl+Shift+M in the model's own orientation.")

    def _score_in_model_orientation(self) -> None:
        """Back to the model's own orientation: the film as stored, scored as when it was opened."""
        if self.view.display is None:
            return
        self.view.reset_orientation()
        self.controller.score_as_displayed(None)
        self.prediction_panel.show_busy("Scoring in the model's own orientation…")

    def _reset_view(self) -> None:
        self.view.reset()
        self.actions.invert.setChecked(False)
        self.preset_combo.setCurrentIndex(0)
        # Space returns the film as stored: a result scored in the reader's orientation no longer describes
        # it, so the model's own reading replaces it.
        result = self.controller.current_result
        if result is not None and result.prediction.displayed is not None and not self._result_fits_view():
            self.controller.score_as_displayed(None)
            self.prediction_panel.show_busy("Scoring in the model's own orientation…")

    def _set_heatmap_visible(self, visible: bool) -> None:
        self.pane.set_heatmap_visible(visible)
        self.settings.heatmap_visible = visible

    def _show_studies(self) -> None:
        if not self.study_dock.isVisible():
            self.study_dock.show()
            if self.study_dock.width() < STUDY_DOCK_WIDTH:
                # Wide enough for name, probability, label and status without a scroll bar.
                self.resizeDocks([self.study_dock], [STUDY_DOCK_WIDTH], Qt.Orientation.Horizontal)

    def _sort_triage(self) -> None:
        self._show_studies()
        self.study_list.sort_by_probability()

    # ----- identity and PHI ----------------------------------------------------------------------------------
    def hide_phi(self) -> bool:
        return self.actions.hide_phi.isChecked()

    def set_hide_phi(self, hide: bool) -> None:
        if self.actions.hide_phi.isChecked() != hide:
            self.actions.hide_phi.setChecked(hide)  # comes back here through toggled
            return
        self.settings.hide_phi = hide
        self.statusBar().clearMessage()  # an earlier message may name the file
        file_commands = getattr(self, "file_commands", None)  # app.build injects it after the window is made
        if file_commands is not None:
            file_commands.rebuild_recent()
        self.dicom_panel.set_hide_phi(hide)
        self.study_list.set_hide_phi(hide)
        self._refresh_identity()
        if self.controller.study.image is not None:
            self.prediction_panel.set_warnings(self._show_warnings())
        if self._failure is not None and self.view.display is None:
            self.view.placeholder.setText(self._failure_text())
            self.prediction_panel.show_error(scrub(self._failure, self._current_path, hide))

    def _warnings(self) -> list[str]:
        """Everything that qualifies the score of the image on screen (core.score_warnings), PHI-safe when
        hide-PHI is on."""
        study = self.controller.study
        if study.image is None:
            return []
        return score_warnings(study.image, study.prediction, study.population, hide_phi=self.hide_phi())

    def _show_warnings(self) -> list[str]:
        """The status bar's lasting warning sign; returns the warnings it stands for."""
        warnings = self._warnings()
        count = len(warnings)
        self.warning_label.setText(f"⚠ {count} warning{'' if count == 1 else 's'}" if count else "")
        self.warning_label.setToolTip("\n".join(warnings))
        self.warning_label.setVisible(bool(count))
        return warnings

    def _label(self) -> str:
        display = self.view.display
        sha = display.image.file_sha256 if display is not None else None
        return file_label(self._current_path, sha, self.hide_phi()) if self._current_path else ""

    def _refresh_identity(self) -> None:
        label = self._label()
        self.pane.set_identity(label, self.hide_phi())
        self.setWindowTitle(f"{label} — {APP_NAME}" if label else APP_NAME)

    def _on_nothing_found(self, text: str) -> None:
        # A status line is gone in seconds; an empty viewer keeps saying why until the reader opens something.
        if self.view.display is None:
            self.pane.set_display(None, text)
        self.status(text)

    def _on_paths_missing(self, missing: list[Path]) -> None:
        hide = self.hide_phi()
        names = [scrub(str(p), p, hide) for p in missing[:3]]
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        text = f"Not found: {', '.join(names)}{more}"
        if self.view.display is None:
            self.pane.set_display(None, f"{text}\n\nNothing was opened from {'it' if len(missing) == 1 else 'them'}: "
                                  "check the path (File ▸ Open, or drop a file here).")
        self.status(text)

    def status(self, text: str, path: Path | None = None) -> None:
        """A status-bar message; with hide-PHI on, the file's name is taken out of it."""
        text = scrub(text, path or self._current_path, self.hide_phi())
        self.statusBar().showMessage(text, STATUS_TIMEOUT_MS)

    def quit_question(self) -> str | None:
        """What quitting now would lose, as a question, or None when nothing would be (issue 24 A4: Ctrl+Q at
        148/600 used to drop the triage list without a word)."""
        unsaved = self.study_list.unexported_count()
        results = f"{unsaved} result{'' if unsaved == 1 else 's'}"
        lost = (f"the study list's {results} (never exported as CSV or summary PDF) would be lost; the audit log "
                "keeps one line per film, not the triage list")
        if self.controller.batch_running():
            done, total = self.study_list.progress.value(), self.study_list.progress.maximum()
            return (f"A batch is running: {done} of {total} films scored. Quitting stops it"
                    + (f", and {lost}." if unsaved else ".") + "\n\nQuit anyway?")
        if unsaved:
            return f"If you quit now, {lost}.\n\nQuit anyway?"
        return None

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        question = self.quit_question()
        if question is not None and not self.ask_quit(self, question):
            event.ignore()
            return
        self.save_settings()
        self.closing.emit()
        self.controller.shutdown()
        event.accept()
