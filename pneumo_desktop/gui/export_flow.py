"""Export commands: PDF report of the image on screen (Ctrl+E), batch summary PDF and batch CSV.

The file is chosen on the GUI thread; writing happens on a worker. The default folder is never one the
images came from, a path inside an input folder is refused, and an existing file is replaced only after
the user says so. Writers are core/report's own (the CLI's CSV writer; atomic temp file + rename).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

from pneumo_desktop.core.collect import is_inside
from pneumo_desktop.core.records import phi_safe_warnings
from pneumo_desktop.gui.controller import Controller
from pneumo_desktop.gui.phi import file_label, film_identity, scrub
from pneumo_desktop.gui.questions import Confirm, Inform, confirm_replace, inform
from pneumo_desktop.gui.settings import Settings
from pneumo_desktop.gui.study_list import StudyList

AskPath = Callable[[QWidget, str, str, str], str]


def _ask_path(parent: QWidget, caption: str, suggested: str, file_filter: str) -> str:
    # We confirm overwriting ourselves, identically for native and Qt dialogs (and testably).
    options = QFileDialog.Option.DontConfirmOverwrite
    path, _ = QFileDialog.getSaveFileName(parent, caption, suggested, file_filter, "", options)
    return path


class Exporter(QObject):
    def __init__(self, window: Any, controller: Controller, settings: Settings, study_list: StudyList, *,
                 ask_path: AskPath = _ask_path, confirm: Confirm = confirm_replace, inform: Inform = inform) -> None:
        super().__init__(window)
        self._window = window
        self._controller = controller
        self._study = controller.study
        self._settings = settings
        self._studies = study_list
        self._ask_path, self._confirm, self._inform = ask_path, confirm, inform
        self.last_written: Path | None = None

    # ----- commands --------------------------------------------------------------------------------------
    def export_report(self) -> None:
        from pneumo_desktop import report

        image, prediction, card = self._study.image, self._study.prediction, self._study.card
        if image is None or prediction is None or card is None:
            self._window.status("Nothing to export yet: open an image and wait for its result.")
            return
        hide = self._window.hide_phi()
        # Films arrive while the reader reads: the dialog names the film on screen, which is what is saved.
        film = film_identity(image.path, image.metadata, image.file_sha256, hide)
        path = self._choose(f"Save the PDF report of {film}", report.suggested_report_name(image, hide),
                            "PDF (*.pdf)")
        if path is not None:
            write = partial(report.write_single_report, path, image, prediction, card,
                            hide_phi=hide, overwrite=True)
            self._run(write, path)

    def export_batch_pdf(self) -> None:
        from pneumo_desktop import report

        card = self._study.card
        rows = [row for row in self._studies.model.rows if row.finished]
        if not rows or card is None:
            self._window.status("Nothing to export yet: open a folder and wait for results.")
            return
        path = self._choose("Save batch summary", report.suggested_batch_report_name(), "PDF (*.pdf)")
        if path is not None:
            entries = [report.BatchEntry(dict(row.record), row.thumbnail_array) for row in rows]
            write = partial(report.write_batch_report, path, entries, card, hide_phi=self._window.hide_phi(),
                            overwrite=True)
            self._run(write, path, [row.path for row in rows])

    def export_csv(self) -> None:
        rows = [row for row in self._studies.ordered_rows() if row.finished]
        if not rows:
            self._window.status("Nothing to export yet: open a folder and wait for results.")
            return
        path = self._choose("Save batch CSV", "pneumonia_batch.csv", "CSV (*.csv)")
        if path is None:
            return
        hide = self._window.hide_phi()
        records = []
        for number, row in enumerate(rows):
            record = dict(row.record)
            if hide:
                # The path may name the patient; keep the hash, which the audit log and reports also carry.
                record["path"] = file_label(row.path, record.get("file_sha256"), True, number)
                record["error"] = scrub(record.get("error") or "", row.path, True) or None
                record["warnings"] = phi_safe_warnings(record)
            records.append(record)
        self._run(partial(_write_csv, path, records), path, [row.path for row in rows])

    # ----- helpers ------------------------------------------------------------------------------------------
    def default_folder(self) -> Path:
        candidates = [self._settings.export_folder,
                      QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation),
                      str(Path.home())]
        for candidate in candidates:
            if candidate and Path(candidate).is_dir() and not is_inside(Path(candidate), self._study.input_folders):
                return Path(candidate)
        return Path.home()

    def _choose(self, caption: str, suggested: str, file_filter: str) -> Path | None:
        chosen = self._ask_path(self._window, caption, str(self.default_folder() / suggested), file_filter)
        if not chosen:
            return None
        path = Path(chosen)
        suffix = ".pdf" if "pdf" in file_filter.lower() else ".csv"
        if path.suffix.lower() != suffix:
            path = path.with_name(path.name + suffix)
        if is_inside(path.parent, self._study.input_folders):
            self._inform(self._window, "Exports are not saved into a folder the images were opened from, so "
                                       "input folders stay unchanged. Please choose another folder.")
            return None
        if path.exists() and not self._confirm(self._window, f"{path.name} already exists. Replace it?"):
            return None
        self._settings.export_folder = str(path.parent)
        return path

    def _run(self, write: Callable[[], Any], path: Path, listed: list[Path] | None = None) -> None:
        """``listed``: the study-list rows the file holds (quitting no longer asks about them once it is saved)."""
        self._window.status(f"Saving {path.name}…")
        self._controller.run_task(write, partial(self._done, path, listed or []), self._failed)

    def _done(self, path: Path, listed: list[Path], _value: Any) -> None:
        self.last_written = path
        self._studies.mark_exported(listed)
        self._window.status(f"Saved {path.name} in {path.parent}")

    def _failed(self, message: str) -> None:
        self._window.status(f"Export failed: {message}")
        self._inform(self._window, f"The file could not be saved: {message}")


def _write_csv(path: Path, records: list[dict[str, Any]]) -> Path:
    from pneumo_desktop.core.atomic import atomic_write_text
    from pneumo_desktop.core.records import write_csv

    buffer = io.StringIO()
    write_csv(records, buffer)
    atomic_write_text(path, buffer.getvalue(), overwrite=True)
    return path
