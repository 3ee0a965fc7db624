"""Settings ▸ DICOM Nodes: this app's own node (AE title, port, interface, listening off by default, who may
send) and the remote nodes it may query, retrieve from (by C-GET or C-MOVE, as the PACS supports) and send to,
each with a Verify button (C-ECHO, a study search, and for C-MOVE the move destination).

The dialog only edits a NodeConfig (Qt-free rules in dicom_net/node_config.py); the caller stores it. Verify runs
through ``verify``, which starts a network job and calls back on the GUI thread, so the dialog never waits on
the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pneumo_desktop.dicom_net.node_config import NodeConfig
from pneumo_desktop.dicom_net.nodes import C_GET, C_MOVE, DicomNetworkError, DicomNode, checked_ae_title

# verify(node, calling_ae, on_done(message), on_error(message)) -> something with drop() (a Job)
Verify = Callable[[DicomNode, str, Callable[[str], None], Callable[[str], None]], Any]


def _port_box(value: int, parent: QWidget) -> QSpinBox:
    box = QSpinBox(parent)
    box.setRange(1, 65535)
    box.setValue(value)
    box.setGroupSeparatorShown(False)
    return box


class DicomNodesDialog(QDialog):
    def __init__(self, config: NodeConfig, verify: Verify, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("DICOM Nodes")
        self.setObjectName("dicom_nodes_dialog")
        self._verify = verify
        self._verifying: Any = None
        self._remotes: list[DicomNode] = list(config.remotes)

        own = QGroupBox("This computer", self)
        self.ae_title = QLineEdit(config.ae_title, own)
        self.ae_title.setAccessibleName("This app's AE title")
        self.ae_title.setToolTip("How PACS and modalities call this app (1-16 characters, no backslash)")
        self.port = _port_box(config.port, own)
        self.port.setAccessibleName("Listening port")
        self.bind = QLineEdit(config.bind, own)
        self.bind.setAccessibleName("Listening interface")
        self.bind.setToolTip("127.0.0.1 accepts films from this computer only; the address of a network card "
                             "(or 0.0.0.0, every network) lets a PACS elsewhere send")
        self.listening = QCheckBox("&Receive films sent to this app (C-STORE)", own)
        self.listening.setChecked(config.listening)
        self.listening.setToolTip("Off by default: while off, the app opens no network port")
        self.allowed = QLineEdit(", ".join(config.allowed_callers), own)
        self.allowed.setAccessibleName("Calling AE titles allowed to send")
        self.allowed.setPlaceholderText("e.g. ORTHANC, CR_ROOM_2")
        self.allowed.setToolTip("Only these AE titles may send films; any other caller is refused")
        form = QFormLayout(own)
        form.addRow("&AE title:", self.ae_title)
        form.addRow(self.listening)
        form.addRow("&Port:", self.port)
        form.addRow("&Interface:", self.bind)
        form.addRow("Accept &from:", self.allowed)
        self.listening.toggled.connect(self._update_enabled)

        remote = QGroupBox("Remote nodes (PACS) to query, retrieve from and send to", self)
        self.table = QTableWidget(0, 4, remote)
        self.table.setHorizontalHeaderLabels(["AE title", "Host", "Port", "Retrieve by"])
        self.table.setAccessibleName("Remote DICOM nodes")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_selected)
        self.remote_ae = QLineEdit(remote)
        self.remote_ae.setAccessibleName("Remote AE title")
        self.remote_ae.setPlaceholderText("ORTHANC")
        self.remote_host = QLineEdit(remote)
        self.remote_host.setAccessibleName("Remote host")
        self.remote_host.setPlaceholderText("pacs.hospital.local")
        self.remote_port = _port_box(4242, remote)
        self.remote_port.setAccessibleName("Remote port")
        self.remote_retrieve = QComboBox(remote)
        self.remote_retrieve.setAccessibleName("Retrieve by")
        self.remote_retrieve.addItem("C-GET", C_GET)
        self.remote_retrieve.addItem("C-MOVE", C_MOVE)
        self.remote_retrieve.setToolTip(
            "How Query/Retrieve fetches films from this PACS. C-GET: they come back on the app's own connection. "
            "C-MOVE (what many archives offer alone): the PACS sends them to this app's AE title, so the PACS must "
            "list this app's AE title with this computer's address and the receiving port above")
        editor = QHBoxLayout()
        for label, widget, stretch in (("AE title:", self.remote_ae, 2), ("Host:", self.remote_host, 3),
                                       ("Port:", self.remote_port, 0), ("Retrieve by:", self.remote_retrieve, 0)):
            editor.addWidget(QLabel(label, remote))
            editor.addWidget(widget, stretch)
        self.add_button = self._button("A&dd", "Add the node typed above", self._add, remote)
        self.update_button = self._button("&Update", "Replace the selected node with the one typed above",
                                          self._update, remote)
        self.remove_button = self._button("Re&move", "Remove the selected node", self._remove, remote)
        self.verify_button = self._button("&Verify", "Try the node typed above: does it answer (C-ECHO), does it let "
                                          "this app search (C-FIND), and for C-MOVE does it know this app as a "
                                          "destination?", self._verify_node, remote)
        buttons_row = QHBoxLayout()
        for button in (self.add_button, self.update_button, self.remove_button, self.verify_button):
            buttons_row.addWidget(button)
        buttons_row.addStretch(1)
        self.verify_result = QLabel(remote)
        self.verify_result.setWordWrap(True)
        self.verify_result.setAccessibleName("Verify result")
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Room for two lines from the start, so a two-line answer does not push the buttons (issue 24 C15).
        self.verify_result.setMinimumHeight(2 * self.verify_result.fontMetrics().lineSpacing() + 4)
        self.verify_result.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # An answer belongs to the node it was about: editing the node clears it.
        for edited in (self.remote_ae.textChanged, self.remote_host.textChanged, self.remote_port.valueChanged):
            edited.connect(self._forget_verify_result)
        remote_layout = QVBoxLayout(remote)
        remote_layout.addWidget(self.table, 1)
        remote_layout.addLayout(editor)
        remote_layout.addLayout(buttons_row)
        remote_layout.addWidget(self.verify_result)

        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setProperty("role", "warning")
        self.message.setAccessibleName("Problem with these settings")
        self.message.hide()  # the warning style draws a box even when empty
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        Qt.Orientation.Horizontal, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        note = QLabel("Nothing is sent or received unless you ask: listening is off until you tick it, and the "
                      "audit log records sends without patient data. DICOM traffic is not encrypted.", self)
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(own)
        layout.addWidget(remote, 1)
        layout.addWidget(note)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._fill_table()
        self._update_enabled()
        self.resize(620, 560)

    def _button(self, text: str, tip: str, slot: Callable[[], None], parent: QWidget) -> QPushButton:
        button = QPushButton(text, parent)
        button.setToolTip(tip)
        button.setAccessibleName(text.replace("&", ""))
        button.clicked.connect(slot)
        return button

    # ----- the result ---------------------------------------------------------------------------------------
    def config(self) -> NodeConfig:
        """What the dialog shows, checked; DicomNetworkError names the first field that is wrong."""
        callers = tuple(part.strip() for part in self.allowed.text().split(",") if part.strip())
        return NodeConfig(ae_title=self.ae_title.text(), port=self.port.value(), bind=self.bind.text(),
                          listening=self.listening.isChecked(), allowed_callers=callers,
                          remotes=tuple(self._remotes)).checked()

    def accept(self) -> None:
        try:
            self.config()
        except DicomNetworkError as exc:
            self._show_problem(str(exc))
            return
        self._cancel_verify()
        super().accept()

    def reject(self) -> None:
        self._cancel_verify()
        super().reject()

    # ----- remote nodes ------------------------------------------------------------------------------------
    def _typed_node(self) -> DicomNode | None:
        try:
            return DicomNode(self.remote_ae.text(), self.remote_host.text().strip(), self.remote_port.value(),
                             str(self.remote_retrieve.currentData()))
        except DicomNetworkError as exc:
            self._show_problem(f"Remote node: {exc}")
            return None

    def _add(self) -> None:
        node = self._typed_node()
        if node is None:
            return
        if any(r.ae_title == node.ae_title for r in self._remotes):
            self._show_problem(f"A node called {node.ae_title!r} is already in the list: select it and Update.")
            return
        self._remotes.append(node)
        self._fill_table(select=len(self._remotes) - 1)

    def _update(self) -> None:
        row = self._selected_row()
        node = self._typed_node() if row is not None else None
        if row is None or node is None:
            if row is None:
                self._show_problem("Select the node to update first.")
            return
        if any(r.ae_title == node.ae_title for i, r in enumerate(self._remotes) if i != row):
            self._show_problem(f"Another node is already called {node.ae_title!r}.")
            return
        self._remotes[row] = node
        self._fill_table(select=row)

    def _remove(self) -> None:
        row = self._selected_row()
        if row is None:
            self._show_problem("Select the node to remove first.")
            return
        del self._remotes[row]
        self._fill_table()

    def _verify_node(self) -> None:
        node = self._typed_node()
        if node is None:
            return
        try:
            calling = checked_ae_title(self.ae_title.text())
        except DicomNetworkError as exc:
            self._show_problem(f"This app's AE title: {exc}")
            return
        self._cancel_verify()
        self.verify_result.setText(f"Verifying {node}…")
        self.verify_button.setEnabled(False)
        self._verifying = self._verify(node, calling, self._verified, lambda m: self._verified(f"Failed: {m}"))

    def _verified(self, message: str) -> None:
        self._verifying = None
        self.verify_button.setEnabled(True)
        self.verify_result.setText(message)

    def _forget_verify_result(self, *_args: object) -> None:
        if getattr(self, "_verifying", None) is None:  # also while __init__ fills the fields
            self.verify_result.clear()

    def _cancel_verify(self) -> None:
        job, self._verifying = self._verifying, None
        if job is not None:
            job.drop()
        self.verify_button.setEnabled(True)

    # ----- widgets -----------------------------------------------------------------------------------------
    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _on_selected(self) -> None:
        row = self._selected_row()
        if row is not None:
            node = self._remotes[row]
            self.remote_ae.setText(node.ae_title)
            self.remote_host.setText(node.host)
            self.remote_port.setValue(node.port)
            self.remote_retrieve.setCurrentIndex(max(self.remote_retrieve.findData(node.retrieve), 0))
        self._update_enabled()

    def _fill_table(self, select: int | None = None) -> None:
        self.table.setRowCount(len(self._remotes))
        for row, node in enumerate(self._remotes):
            for column, value in enumerate((node.ae_title, node.host, str(node.port), node.retrieve)):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.clearSelection()
        if select is not None:
            self.table.selectRow(select)
        self._show_problem("")
        self._update_enabled()

    def _update_enabled(self) -> None:
        on = self.listening.isChecked()
        for widget in (self.port, self.bind, self.allowed):
            widget.setEnabled(on)
        selected = self._selected_row() is not None
        self.update_button.setEnabled(selected)
        self.remove_button.setEnabled(selected)

    def _show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
