"""File ▸ Query/Retrieve: search a configured PACS (C-FIND by patient ID, name, accession or date), then fetch
the chest series (CR/DX) of the chosen study into the app's inbox, where they are scored like a batch.

Fetched as the node's settings say: C-GET, or C-MOVE to this app's own receiving AE. For C-MOVE, while the app
is receiving (Settings ▸ DICOM Nodes ▸ listening on) its listener takes the films and scores them as received
films; otherwise the retrieve opens the receiving port for itself, for as long as the retrieve lasts.

Non-modal: the main window stays usable, and both steps run as network jobs that Cancel drops. A retrieve that
fails or is cancelled leaves nothing behind (its folder is removed), so the inbox never holds half a study.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pneumo_desktop import paths
from pneumo_desktop.dicom_net.node_config import NodeConfig
from pneumo_desktop.dicom_net.nodes import C_MOVE, DicomNetworkError, DicomNode
from pneumo_desktop.gui.dicom_results import NETWORK_TIMEOUT_S
from pneumo_desktop.gui.phi import HIDDEN

RunNetwork = Callable[[Callable[[Callable[[], bool]], Any], Callable[[Any], None], Callable[[str], None]], Any]
_DATE = re.compile(r"^(\d{8})?(-(\d{8})?)?$")
COLUMNS = ("Patient name", "Patient ID", "Study date", "Accession", "Description")
NO_NODE = "No DICOM node is configured: add your PACS in Settings ▸ DICOM Nodes first."


def retrieve_into_inbox(node: DicomNode, study_uid: str, config: NodeConfig, should_stop: Callable[[], bool],
                        timeout_s: float = NETWORK_TIMEOUT_S) -> tuple[Path, Any]:
    """The study's chest films in a new folder of the inbox, and what the PACS said of any it could not send
    (a ``Retrieved``); the folder goes again on any failure or cancel. C-MOVE opens this app's receiving port."""
    from pneumo_desktop.dicom_net.query_retrieve import MoveDestination, Retrieved, retrieve_chest_films

    folder = Path(tempfile.mkdtemp(prefix="study_", dir=paths.inbox_dir("retrieved")))
    move_to = MoveDestination(config.ae_title, config.bind, config.port, config.allowed_callers)
    try:
        result = retrieve_chest_films(node, study_uid, folder, calling_ae=config.ae_title, timeout_s=timeout_s,
                                      should_stop=should_stop, move_to=move_to)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if should_stop() or not result.films:
        shutil.rmtree(folder, ignore_errors=True)
        return folder, Retrieved([])
    return folder, result


def move_to_listener(node: DicomNode, study_uid: str, config: NodeConfig, should_stop: Callable[[], bool],
                     timeout_s: float = NETWORK_TIMEOUT_S) -> tuple[int, str]:
    """C-MOVE the study's chest films to the app's running listener; how many the PACS sent, and why not all."""
    from pneumo_desktop.dicom_net.query_retrieve import move_chest_films

    if node.ae_title not in config.allowed_callers:
        raise DicomNetworkError(f"this app is receiving, but only from {', '.join(config.allowed_callers)}: add "
                                f"{node.ae_title} to \"Accept from\" in Settings ▸ DICOM Nodes, or the films it "
                                "moves here are refused")
    return move_chest_films(node, study_uid, config.ae_title, calling_ae=config.ae_title, timeout_s=timeout_s,
                            should_stop=should_stop)


class QueryRetrieveWindow(QDialog):
    def __init__(self, config: NodeConfig, run_network: RunNetwork,
                 on_retrieved: Callable[[Path, list[Path]], None], parent: QWidget | None = None, *,
                 hide_phi: bool = False, receiving: Callable[[], bool] = lambda: False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Query/Retrieve from PACS")
        self.setObjectName("query_retrieve_window")
        self.setModal(False)
        self._config = config
        self._run_network = run_network
        self._on_retrieved = on_retrieved
        self._receiving = receiving  # is the app's listener running (C-MOVE then sends the films to it)?
        self._job: Any = None
        self.matches: list[Any] = []
        self._hide_phi = hide_phi

        self.node = QComboBox(self)
        self.node.setAccessibleName("PACS to search")
        for remote in config.remotes:
            self.node.addItem(str(remote), remote.ae_title)
        self.patient_id = self._field("Patient ID")
        self.patient_name = self._field("Patient name", "e.g. DOE^J* (* matches anything)")
        self.accession = self._field("Accession number")
        self.study_date = self._field("Study date", "YYYYMMDD, or a range YYYYMMDD-YYYYMMDD")
        form = QFormLayout()
        form.addRow("&PACS:", self.node)
        form.addRow("Patient &ID:", self.patient_id)
        form.addRow("Patient &name:", self.patient_name)
        form.addRow("&Accession:", self.accession)
        form.addRow("Study &date:", self.study_date)

        self.search_button = self._button("&Search", "Ask the PACS for matching studies (C-FIND)", self.search)
        self.retrieve_button = self._button("&Retrieve and Score", "Fetch the chest (CR/DX) films of the selected "
                                            "study and score them in the study list", self.retrieve)
        self.cancel_button = self._button("&Cancel", "Stop the search or the retrieve", self.cancel)
        self.close_button = self._button("Close", "Close this window", self.close)
        row = QHBoxLayout()
        for button in (self.search_button, self.retrieve_button, self.cancel_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.close_button)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setAccessibleName("Matching studies")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_enabled)
        self.table.doubleClicked.connect(lambda _index: self.retrieve())
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Query/retrieve status")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        if not config.remotes:
            self.message.setText(NO_NODE)
        self._update_enabled()
        self.resize(760, 520)

    def _field(self, name: str, placeholder: str = "") -> QLineEdit:
        field = QLineEdit(self)
        field.setAccessibleName(name)
        field.setPlaceholderText(placeholder)
        field.returnPressed.connect(self.search)
        return field

    def _button(self, text: str, tip: str, slot: Callable[[], Any]) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.setAccessibleName(text.replace("&", ""))
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    # ----- commands -----------------------------------------------------------------------------------------
    def selected_node(self) -> DicomNode | None:
        return self._config.remote(str(self.node.currentData())) if self.node.count() else None

    def search(self) -> None:
        node = self.selected_node()
        if node is None:
            self.message.setText(NO_NODE)
            return
        date = self.study_date.text().strip()
        if not _DATE.match(date):
            self.message.setText(f"{date!r} is not a study date: write YYYYMMDD, or a range YYYYMMDD-YYYYMMDD.")
            return
        criteria = {"patient_id": self.patient_id.text().strip(), "patient_name": self.patient_name.text().strip(),
                    "accession_number": self.accession.text().strip(), "study_date": date}
        if not any(criteria.values()):
            self.message.setText("Type a patient ID, name, accession number or date: an empty search would list "
                                 "every study in the PACS.")
            return

        def find(should_stop: Callable[[], bool]) -> list[Any]:
            from pneumo_desktop.dicom_net.query_retrieve import find_studies

            return find_studies(node, calling_ae=self._config.ae_title, timeout_s=NETWORK_TIMEOUT_S,
                                should_stop=should_stop, **criteria)

        self._start(find, self._found, f"Searching {node}…")

    def retrieve(self) -> None:
        node, row = self.selected_node(), self._selected_row()
        if node is None or row is None:
            self.message.setText(NO_NODE if node is None else "Select a study first.")
            return
        study = self.matches[row]
        how = f"by {node.retrieve}"
        if node.retrieve == C_MOVE and self._receiving():
            self._start(partial(move_to_listener, node, study.study_uid, self._config), self._moved,
                        f"Asking {node} to send the chest films of the study to this app ({how})…")
            return
        job = partial(retrieve_into_inbox, node, study.study_uid, self._config)
        self._start(job, self._retrieved, f"Retrieving the chest films of the study from {node} ({how})…")

    def cancel(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.drop()
            self.message.setText("Cancelled.")
        self._update_enabled()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.cancel()
        super().closeEvent(event)

    # ----- results -----------------------------------------------------------------------------------------
    def _start(self, function: Callable[[Callable[[], bool]], Any], done: Callable[[Any], None], text: str) -> None:
        self.cancel()
        self.message.setText(text)
        self._job = self._run_network(function, done, self._failed)
        self._update_enabled()

    def set_hide_phi(self, hide: bool) -> None:
        """View ▸ Hide PHI: the found studies' patient name, ID and accession are masked as everywhere else (the
        search fields keep what the user typed)."""
        self._hide_phi = hide
        self._fill_table()

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.matches))
        for r, match in enumerate(self.matches):
            name, patient_id, accession = match.patient_name.replace("^", " ").strip(), match.patient_id, \
                match.accession_number
            if self._hide_phi:
                name, patient_id, accession = HIDDEN, HIDDEN, HIDDEN
            values = (name, patient_id, _date(match.study_date), accession, match.description)
            for c, value in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(value))

    def _found(self, matches: list[Any]) -> None:
        self._job = None
        self.matches = list(matches)
        self._fill_table()
        if self.matches:
            self.table.selectRow(0)
        count = len(self.matches)
        self.message.setText(f"{count} matching stud{'y' if count == 1 else 'ies'}." if count else
                             "No study matches: check the spelling, or use * in the name.")
        self._update_enabled()

    def _retrieved(self, result: tuple[Path, Any]) -> None:
        self._job = None
        folder, retrieved = result
        films = retrieved.films
        self._update_enabled()
        if not films:
            self.message.setText("The PACS sent no film for this study.")
            return
        one = len(films) == 1
        text = (f"Retrieved {len(films)} chest film{'' if one else 's'}; {'it is' if one else 'they are'} "
                "being scored into the study list (marked retrieved).")
        if retrieved.problem:
            text += f" {retrieved.problem[:1].upper()}{retrieved.problem[1:]}."
        self.message.setText(text)
        self._on_retrieved(folder, films)

    def _moved(self, result: tuple[int, str]) -> None:
        self._job = None
        self._update_enabled()
        count, problem = result
        text = f"The PACS sent {count} chest film{'' if count == 1 else 's'} to this app's receiving AE; they are " \
               "scored in the study list as received films."
        self.message.setText(f"{text} {problem[:1].upper()}{problem[1:]}." if problem else text)

    def _failed(self, message: str) -> None:
        self._job = None
        self.message.setText(message[:1].upper() + message[1:])
        self._update_enabled()

    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _update_enabled(self) -> None:
        busy = self._job is not None
        has_node = self.node.count() > 0
        self.search_button.setEnabled(has_node and not busy)
        self.retrieve_button.setEnabled(has_node and not busy and self._selected_row() is not None)
        self.cancel_button.setEnabled(busy)


def _date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:]}" if len(text) == 8 and text.isdigit() else text
