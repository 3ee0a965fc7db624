"""The window's DICOM commands: File ▸ Export as DICOM, Send Results to PACS, Query/Retrieve, and
Settings ▸ DICOM Nodes (which also turns receiving on or off).

Each command is enabled only when it can work, and its tooltip says why not (a raster film, hide-PHI on, no
result yet, no node configured). Dialogs are arguments, as in export_flow.Exporter, so tests drive them without
real dialogs. Writing and sending run on workers; a file is replaced only after the user says so.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel, QPushButton, QWidget

from pneumo_desktop.core.collect import is_inside
from pneumo_desktop.core.score_warnings import score_warnings
from pneumo_desktop.dicom_net.node_config import NodeConfig
from pneumo_desktop.dicom_net.nodes import DicomNode
from pneumo_desktop.gui.controller import Controller
from pneumo_desktop.gui.dicom_nodes_dialog import DicomNodesDialog
from pneumo_desktop.gui.dicom_results import SendReport, send_results, write_results
from pneumo_desktop.gui.inbox_receiver import InboxReceiver
from pneumo_desktop.gui.phi import film_identity
from pneumo_desktop.gui.query_retrieve_window import QueryRetrieveWindow
from pneumo_desktop.gui.questions import Confirm, Inform, confirm_replace, confirm_send, inform
from pneumo_desktop.gui.settings import Settings

AskFolder = Callable[[QWidget, str, str], str]
ChooseNode = Callable[[QWidget, list[str]], int | None]
EXPORT_TIP = "Write the result as DICOM (report PDF, structured report, heatmap capture) for a PACS"
SEND_TIP = "Send the result as DICOM (report PDF, structured report, heatmap capture) to a configured PACS"
VERIFY_TIMEOUT_S = 10.0


def _ask_folder(parent: QWidget, caption: str, start: str) -> str:
    return QFileDialog.getExistingDirectory(parent, caption, start)


def _choose_node(parent: QWidget, names: list[str]) -> int | None:
    if len(names) == 1:
        return 0
    name, ok = QInputDialog.getItem(parent, "Send results", "Send to:", names, 0, False)
    return names.index(name) if ok and name in names else None


class DicomCommands(QObject):
    def __init__(self, window: Any, controller: Controller, settings: Settings,
                 default_folder: Callable[[], Path], *, ask_folder: AskFolder = _ask_folder,
                 confirm: Confirm = confirm_replace, inform: Inform = inform,
                 choose_node: ChooseNode = _choose_node, confirm_send: Confirm = confirm_send) -> None:
        super().__init__(window)
        self._window, self._controller, self._settings = window, controller, settings
        self._default_folder = default_folder
        self._ask_folder, self._confirm, self._inform, self._choose_node = ask_folder, confirm, inform, choose_node
        self._confirm_send = confirm_send
        self.receiver = InboxReceiver(controller, self)
        self.receiver.listening_changed.connect(window.status)
        self.receiver.failed.connect(self._receive_failed)
        self.receiver.films_received.connect(self._films_received)
        self.receiver.association_rejected.connect(self._association_rejected)
        # Lasts while the window is open, unlike a status message: how many films came in over the network.
        self.inbox_label = QLabel(window)
        self.inbox_label.setAccessibleName("Films received over DICOM")
        self.inbox_label.hide()
        window.statusBar().addPermanentWidget(self.inbox_label)
        self._announce = 0  # films of the running inbox batch, said again when it finishes
        controller.batch_finished.connect(self._batch_finished)
        self.last_written: list[Path] = []
        self.last_send: SendReport | str | None = None
        self.nodes_dialog: DicomNodesDialog | None = None
        self.query_window: QueryRetrieveWindow | None = None
        self._sending: Any = None
        # A send waits on the PACS (30 s timeouts): it can be cancelled from the status bar while it runs.
        self.cancel_send_button = QPushButton("Cancel sending", window)
        self.cancel_send_button.setAccessibleName("Cancel sending the results")
        self.cancel_send_button.clicked.connect(self.cancel_send)
        self.cancel_send_button.hide()
        window.statusBar().addPermanentWidget(self.cancel_send_button)
        a = window.actions
        a.export_dicom.triggered.connect(self.export_dicom)
        a.send_results.triggered.connect(self.send_results)
        a.query_retrieve.triggered.connect(self.open_query_retrieve)
        a.dicom_nodes.triggered.connect(self.open_nodes_dialog)
        a.hide_phi.toggled.connect(lambda _on: self.refresh())
        for signal in (controller.image_loading, controller.prediction_ready, controller.prediction_failed):
            signal.connect(lambda *_args: self.refresh())
        self.refresh()

    def start(self) -> None:
        """Listen if the stored settings say so (they never do by default). pynetdicom is imported on a worker
        first: its import takes a quarter of a second, which the GUI thread must not spend after the first paint."""
        config = self._settings.dicom_nodes
        if not config.listening:
            return

        def load() -> None:
            import pneumo_desktop.dicom_net.listener  # noqa: F401  (the import is the work)

        self._controller.run_task(load, lambda _none: self.receiver.apply(config),
                                  lambda message: self.receiver.failed.emit(f"Receiving is off: {message}"))

    def shutdown(self) -> None:
        self.receiver.stop(quiet=True)

    # ----- what can be done now -------------------------------------------------------------------------------
    def refusal(self) -> str | None:
        """Why the shown result cannot be written as DICOM now, or None."""
        study = self._controller.study
        if study.image is None:
            return "open a DICOM film and wait for its result first"
        if study.prediction is None or study.card is None:
            return f"wait for the result of {study.image.path.name} first"
        from pneumo_desktop.dicom_out import refusal

        return refusal(study.image, hide_phi=self._window.hide_phi())

    def refresh(self) -> None:
        reason = self.refusal()
        a = self._window.actions
        no_node = not self._settings.dicom_nodes.remotes
        for action, tip, extra in ((a.export_dicom, EXPORT_TIP, None),
                                   (a.send_results, SEND_TIP, "no DICOM node is configured (Settings ▸ DICOM Nodes)"
                                    if no_node else None)):
            why = reason or extra
            action.setEnabled(why is None)
            text = tip if why is None else f"Not available: {why}"
            if self._window.hide_phi() and why is not None and self._controller.study.image is not None:
                text = f"Not available: {why}".replace(self._controller.study.image.path.name, "this file")
            action.setToolTip(text)
            action.setStatusTip(text)

    def on_screen(self) -> str:
        """The film the export and send commands act on, named for their questions (PHI rules apply)."""
        image = self._controller.study.image
        if image is None:
            return "no film"
        return film_identity(image.path, image.metadata, image.file_sha256, self._window.hide_phi())

    # ----- Export as DICOM -----------------------------------------------------------------------------------
    def export_dicom(self) -> None:
        reason = self.refusal()
        if reason is not None:
            self._window.status(f"Not exported as DICOM: {reason}")
            return
        study = self._controller.study
        image, prediction, card = study.image, study.prediction, study.card
        assert image is not None and prediction is not None and card is not None
        chosen = self._ask_folder(self._window, f"Export the results of {self.on_screen()} as DICOM: choose a folder",
                                  str(self._default_folder()))
        if not chosen:
            return
        folder = Path(chosen)
        if is_inside(folder, study.input_folders | {image.path.parent.resolve()}):
            self._inform(self._window, "DICOM results are not written into a folder the images were opened from, "
                                       "so input folders stay unchanged. Please choose another folder.")
            return
        from pneumo_desktop.dicom_out import dicom_result_paths

        existing = [p for p in dicom_result_paths(image.path, folder).values() if p.exists()]
        if existing and not self._confirm(self._window, f"{', '.join(p.name for p in existing)} already "
                                                        f"exist{'s' if len(existing) == 1 else ''} in {folder}. "
                                                        "Replace the DICOM results?"):
            return
        warnings = score_warnings(image, prediction, study.population)  # as the panel shows them (hide-PHI off)
        self._settings.export_folder = str(folder)
        self._window.status("Writing the DICOM results…")
        write = partial(write_results, folder, image, prediction, card, warnings, overwrite=bool(existing))
        self._controller.run_task(write, partial(self._written, folder), self._export_failed)

    def _written(self, folder: Path, written: list[Path]) -> None:
        self.last_written = list(written)
        names = ", ".join(p.name for p in written)
        self._window.status(f"Wrote {len(written)} DICOM objects in {folder}: {names}")

    def _export_failed(self, message: str) -> None:
        self._window.status(f"DICOM export failed: {message}")
        self._inform(self._window, f"The DICOM results were not written: {message}")

    # ----- Send to a PACS ------------------------------------------------------------------------------------
    def send_results(self) -> None:
        reason = self.refusal()
        config = self._settings.dicom_nodes
        if reason is None and not config.remotes:
            reason = "no DICOM node is configured: add your PACS in Settings ▸ DICOM Nodes"
        if reason is not None:
            self._window.status(f"Not sent: {reason}")
            return
        choice = self._choose_node(self._window, [str(r) for r in config.remotes])
        if choice is None:
            return
        node: DicomNode = config.remotes[choice]
        study = self._controller.study
        image, prediction, card = study.image, study.prediction, study.card
        assert image is not None and prediction is not None and card is not None
        # Films arrive while the reader reads: the question names the film on screen, which is what is sent.
        if not self._confirm_send(self._window, f"Send the results of the film on screen, {self.on_screen()}, "
                                                f"to {node.ae_title}?"):
            return
        if self._controller.study.image is not image:  # the film on screen changed while the question was open
            self._window.status("Not sent: the film on screen changed; send again.")
            return
        warnings = score_warnings(image, prediction, study.population)
        if self._sending is not None:
            self._sending.drop()
        self._window.status(f"Sending the results to {node.ae_title}…")
        self._sending = self._controller.run_network(
            lambda stop: send_results(node, image, prediction, card, warnings, calling_ae=config.ae_title,
                                      should_stop=stop),
            self._sent, partial(self._send_failed, node.ae_title))
        self.cancel_send_button.show()

    def cancel_send(self) -> None:
        job, self._sending = self._sending, None
        self.cancel_send_button.hide()
        if job is not None:
            job.drop()
            self._window.status("Sending cancelled.")

    def _sent(self, report: SendReport) -> None:
        self._sending = None
        self.cancel_send_button.hide()
        self.last_send = report
        text = report.message if report.audited else f"{report.message} (the audit log could not be written)"
        self._window.status(text)
        if report.failed:
            self._inform(self._window, text)

    def _send_failed(self, destination: str, message: str) -> None:
        self._sending = None
        self.cancel_send_button.hide()
        self.last_send = message
        self._window.status(f"Results not sent to {destination}: {message}")
        self._inform(self._window, f"The results were not sent to {destination}: {message}")

    # ----- Settings ▸ DICOM Nodes ----------------------------------------------------------------------------
    def open_nodes_dialog(self) -> DicomNodesDialog:
        dialog = DicomNodesDialog(self._settings.dicom_nodes, self._verify, self._window)
        dialog.accepted.connect(lambda: self.apply_config(dialog.config()))
        self.nodes_dialog = dialog
        dialog.open()
        return dialog

    def apply_config(self, config: NodeConfig) -> None:
        self._settings.dicom_nodes = config
        self._settings.sync()
        self.receiver.apply(config)
        self.refresh()

    def _verify(self, node: DicomNode, calling_ae: str, on_done: Callable[[str], None],
                on_error: Callable[[str], None]) -> Any:
        from pneumo_desktop.dicom_net.echo import verify_node

        return self._controller.run_network(
            # The move destination checked is the AE title typed in the dialog, i.e. the calling AE title.
            lambda stop: verify_node(node, calling_ae=calling_ae, timeout_s=VERIFY_TIMEOUT_S, should_stop=stop),
            on_done, on_error)

    # ----- Query/Retrieve and receive -------------------------------------------------------------------------
    def open_query_retrieve(self) -> QueryRetrieveWindow:
        if self.query_window is not None:
            self.query_window.close()
        window = QueryRetrieveWindow(self._settings.dicom_nodes, self._controller.run_network, self._open_retrieved,
                                     self._window, hide_phi=self._window.hide_phi(),
                                     receiving=lambda: self.receiver.address is not None)
        self._window.actions.hide_phi.toggled.connect(window.set_hide_phi)
        self.query_window = window
        window.show()
        return window

    def _open_retrieved(self, folder: Path, films: list[Path]) -> None:
        """Retrieved films join the study list (marked "Retrieved"); the film on screen stays until the reader
        clicks one, so the patient read before neither disappears nor is replaced unasked."""
        one = len(films) == 1
        self._window.status(f"Retrieved {len(films)} chest film{'' if one else 's'}: {'it is' if one else 'they are'} "
                            "scored into the study list (Retrieved); click one to show it.")
        self._controller.study.input_folders.add(Path(folder).resolve())  # exports refuse to write into it
        self._controller.add_files(films, "retrieved")

    def _films_received(self, count: int) -> None:
        self._announce = count
        self._show_receiving_counts()
        self._window.status(f"{count} film{'' if count == 1 else 's'} received over DICOM: listed on top of the "
                            "study list (Received); the film on screen is unchanged. Click one to show it.")

    def _association_rejected(self, message: str) -> None:
        # Connected after the receiver's own counter, so the count already includes this one.
        self._show_receiving_counts()
        count = self.receiver.rejected
        self._window.status(f"Receiving: {message[0].upper()}{message[1:]} ({count} rejected this session; "
                            "see the log).")

    def _show_receiving_counts(self) -> None:
        total, rejected = len(self.receiver.received), self.receiver.rejected
        text = f"{total} received over DICOM"
        tip = (f"{total} film{'' if total == 1 else 's'} received over DICOM this session, kept in the app's inbox "
               "folder and listed on top of the study list (bold until shown). The film on screen does not change "
               "until you click one")
        if rejected:
            text += f", {rejected} rejected"
            tip += (f"; {rejected} association{'' if rejected == 1 else 's'} rejected (a caller not allowed, or "
                    "addressed to another AE title: the log names each caller and the reason)")
        self.inbox_label.setText(text)
        self.inbox_label.setToolTip(tip)
        self.inbox_label.show()

    def _batch_finished(self, cancelled: bool) -> None:
        count, self._announce = self._announce, 0
        if count and not cancelled:
            self._window.status(f"{count} film{'' if count == 1 else 's'} received over DICOM and scored; they are "
                                "listed on top of the study list. The film on screen is unchanged.")

    def _receive_failed(self, message: str) -> None:
        self._window.status(message)
        self._inform(self._window, message)

