"""Settings ▸ DICOM Nodes and receiving: off by default (no socket), bound only where configured, refused
callers never reach the inbox, received films scored in the study list newest first, the port released when
listening is turned off."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psutil
import pydicom
import pytest
from PySide6.QtCore import QSettings

from pneumo_desktop.dicom_net.node_config import NodeConfig
from pneumo_desktop.dicom_net.nodes import DicomNetworkError, DicomNode
from pneumo_desktop.dicom_net.received_files import received_file_name
from pneumo_desktop.gui.dicom_nodes_dialog import DicomNodesDialog
from pneumo_desktop.gui.settings import Settings
from tests.conftest import DICOM_DIR
from tests.dicom_net.orthanc import free_port
from tests.gui.conftest import WAIT_MS

FILMS = [DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm", DICOM_DIR / "cr_mono2_8bit_jpeg_baseline.dcm"]


def _listening_on(port: int) -> list[str]:
    return [c.laddr.ip for c in psutil.Process().net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port]


def test_the_default_listens_nowhere_and_a_damaged_setting_never_turns_listening_on(tmp_path: Path) -> None:
    config = NodeConfig()
    assert not config.listening and config.bind == "127.0.0.1" and config.remotes == ()
    qsettings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings = Settings(qsettings)
    assert settings.dicom_nodes == NodeConfig()
    qsettings.setValue("dicom/nodes", "{not json")
    assert settings.dicom_nodes == NodeConfig()
    qsettings.setValue("dicom/nodes", '{"listening": true, "allowed_callers": []}')
    assert not settings.dicom_nodes.listening  # on without anybody allowed to call is not a configuration
    stored = NodeConfig(ae_title="ME", port=11113, listening=True, allowed_callers=("PACS",),
                        remotes=(DicomNode("PACS", "pacs.local", 104),))
    settings.dicom_nodes = stored
    assert Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)).dicom_nodes == stored


@pytest.mark.parametrize("field,value,message", [
    ("ae_title", "A" * 17, "not a valid AE title"),
    ("ae_title", "BAD\\AE", "not a valid AE title"),
    ("bind", "my laptop", "not an IP address"),
    ("allowed", "GOOD, WAY_TOO_LONG_CALLER_TITLE", "not a valid AE title"),
])
def test_bad_settings_are_named_and_the_dialog_stays_open(qtbot, field: str, value: str, message: str) -> None:
    dialog = DicomNodesDialog(NodeConfig(), lambda *_: None)
    qtbot.addWidget(dialog)
    dialog.listening.setChecked(True)
    dialog.allowed.setText("ORTHANC")
    getattr(dialog, field).setText(value)
    dialog.show()
    dialog.buttons.accepted.emit()
    assert dialog.isVisible() and message in dialog.message.text()


def test_listening_needs_someone_allowed_to_call(qtbot) -> None:
    dialog = DicomNodesDialog(NodeConfig(), lambda *_: None)
    qtbot.addWidget(dialog)
    dialog.listening.setChecked(True)
    with pytest.raises(DicomNetworkError, match="no calling AE title is allowed"):
        dialog.config()


def test_remote_nodes_are_added_edited_removed_and_duplicates_refused(qtbot) -> None:
    dialog = DicomNodesDialog(NodeConfig(), lambda *_: None)
    qtbot.addWidget(dialog)
    dialog.remote_ae.setText("PACS")
    dialog.remote_host.setText("pacs.local")
    dialog.remote_port.setValue(104)
    dialog.add_button.click()
    dialog.add_button.click()
    assert "already in the list" in dialog.message.text()
    dialog.remote_host.setText("")
    dialog.remote_ae.setText("OTHER")
    dialog.add_button.click()
    assert "no host" in dialog.message.text()
    dialog.table.selectRow(0)
    dialog.remote_ae.setText("PACS")
    dialog.remote_host.setText("10.0.0.5")
    dialog.update_button.click()
    assert dialog.config().remotes == (DicomNode("PACS", "10.0.0.5", 104),)
    dialog.table.selectRow(0)
    dialog.remove_button.click()
    assert dialog.config().remotes == ()


def test_each_node_says_whether_it_is_retrieved_from_by_c_get_or_c_move(qtbot, tmp_path: Path) -> None:
    dialog = DicomNodesDialog(NodeConfig(), lambda *_: None)
    qtbot.addWidget(dialog)
    assert dialog.remote_retrieve.currentText() == "C-GET"  # the default, as before the setting existed
    for title, method in (("GETTER", "C-GET"), ("MOVER", "C-MOVE")):
        dialog.remote_ae.setText(title)
        dialog.remote_host.setText("pacs.local")
        dialog.remote_retrieve.setCurrentText(method)
        dialog.add_button.click()
    assert [(r.ae_title, r.retrieve) for r in dialog.config().remotes] == [("GETTER", "C-GET"), ("MOVER", "C-MOVE")]
    assert dialog.table.item(1, 3).text() == "C-MOVE"
    dialog.table.selectRow(0)
    assert dialog.remote_retrieve.currentText() == "C-GET"
    dialog.table.selectRow(1)
    assert dialog.remote_retrieve.currentText() == "C-MOVE"  # selecting a node shows its method

    qsettings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    Settings(qsettings).dicom_nodes = dialog.config()
    assert Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)).dicom_nodes == dialog.config()
    # Settings written before the setting existed, or damaged: the node stays, retrieved by C-GET.
    for stored in ({"ae_title": "OLD", "host": "h", "port": 104}, {"ae_title": "ODD", "host": "h", "port": 104,
                                                                     "retrieve": "C-TELEPORT"}):
        (node,) = NodeConfig.from_json(json.dumps({"remotes": [stored]})).remotes
        assert node.retrieve == "C-GET"
    with pytest.raises(DicomNetworkError, match="not a way to retrieve"):
        DicomNode("PACS", "h", 104, "C-TELEPORT")


def test_verify_echoes_on_a_worker_and_reports_both_outcomes(qtbot, window) -> None:
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind, Verification

    scp = AE(ae_title="ECHOER")
    scp.add_supported_context(Verification)
    scp.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    server = scp.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_FIND, lambda _e: iter(()))])
    try:
        dialog = window.dicom_commands.open_nodes_dialog()
        dialog.remote_ae.setText("ECHOER")
        dialog.remote_host.setText("127.0.0.1")
        dialog.remote_port.setValue(server.server_address[1])
        dialog.verify_button.click()
        assert "Verifying" in dialog.verify_result.text()  # the click returned before the answer
        qtbot.waitUntil(lambda: "answered" in dialog.verify_result.text(), timeout=WAIT_MS)
        assert "C-ECHO succeeded; a study search (C-FIND) succeeded" in dialog.verify_result.text()
        dialog.remote_port.setValue(free_port())
        dialog.verify_button.click()
        qtbot.waitUntil(lambda: "Failed" in dialog.verify_result.text(), timeout=60_000)
        assert "connection refused" in dialog.verify_result.text()
        height = dialog.verify_result.height()
        assert height >= 2 * dialog.verify_result.fontMetrics().lineSpacing()  # no jump for a 2-line answer
        dialog.remote_port.setValue(server.server_address[1])  # issue 24 C15: a stale "Failed" goes
        assert dialog.verify_result.text() == ""
        dialog.reject()
    finally:
        server.shutdown()


def test_the_window_opens_no_port_until_listening_is_turned_on(qtbot, window) -> None:
    commands = window.dicom_commands
    commands.start()  # what app.start does after the first paint, with the default settings
    assert commands.receiver.address is None
    assert not window.settings.dicom_nodes.listening


def test_received_films_bind_only_where_configured_and_are_scored_newest_first(qtbot, window, tmp_path) -> None:
    from pneumo_desktop.dicom_net.send import send_files

    port = free_port()
    commands = window.dicom_commands
    commands.apply_config(NodeConfig(ae_title="PNEUMO", port=port, listening=True, allowed_callers=("MODALITY",)))
    assert commands.receiver.address == ("127.0.0.1", port)
    assert _listening_on(port) == ["127.0.0.1"]
    node = DicomNode("PNEUMO", "127.0.0.1", port)
    with pytest.raises(DicomNetworkError, match="refused"):
        send_files(node, FILMS[:1], calling_ae="STRANGER", timeout_s=10)
    assert commands.receiver.received == []
    for film in FILMS:  # two associations, a moment apart: the later film is the newer one
        assert send_files(node, [film], calling_ae="MODALITY", timeout_s=10).ok
    qtbot.waitUntil(lambda: len(commands.receiver.received) == 2 and not window.controller.batch_running()
                    and all(r.finished for r in window.study_list.model.rows), timeout=WAIT_MS)
    rows = window.study_list.model.rows
    names = [received_file_name(pydicom.dcmread(f, stop_before_pixels=True)) for f in FILMS]
    assert [r.path.name for r in rows] == list(reversed(names))
    assert all(r.record.get("probability") is not None for r in rows)
    assert all(r.path.parent.name == "received" and r.path.parent.parent.name == "inbox" for r in rows)
    assert "received over DICOM" in window.statusBar().currentMessage()
    assert window.study_dock.isVisible()

    commands.apply_config(NodeConfig(ae_title="PNEUMO", port=port, listening=False, allowed_callers=("MODALITY",)))
    assert commands.receiver.address is None and _listening_on(port) == []


def test_quitting_releases_the_port(qtbot, window) -> None:
    port = free_port()
    commands = window.dicom_commands
    commands.apply_config(NodeConfig(port=port, listening=True, allowed_callers=("PACS",)))
    assert _listening_on(port)
    window.close()
    assert _listening_on(port) == []


def test_a_port_in_use_is_said_plainly(qtbot, window) -> None:
    import socket

    told: list[str] = []
    commands = window.dicom_commands
    commands._inform = lambda _parent, message: told.append(message)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        commands.apply_config(NodeConfig(port=taken.getsockname()[1], listening=True, allowed_callers=("PACS",)))
    assert commands.receiver.address is None
    assert told and "Receiving is off: cannot listen on 127.0.0.1" in told[0]
    # Issue 24 C14: a port in use is most often this app opened twice.
    assert "Another pneumo_desktop window is probably receiving on port" in told[0]


def test_no_film_lands_in_the_users_folders(tmp_path: Path) -> None:
    from pneumo_desktop import paths

    inbox = paths.inbox_dir("received")
    assert paths.state_dir() in inbox.parents
    shutil.rmtree(inbox)


def test_a_later_arrival_lists_the_earlier_film_without_scoring_or_auditing_it_again(qtbot, window) -> None:
    from pneumo_desktop.core import audit
    from pneumo_desktop.core.hashing import sha256_file
    from pneumo_desktop.dicom_net.send import send_files

    port = free_port()
    commands = window.dicom_commands
    commands.apply_config(NodeConfig(ae_title="PNEUMO", port=port, listening=True, allowed_callers=("MODALITY",)))
    node = DicomNode("PNEUMO", "127.0.0.1", port)

    def settled(count: int) -> bool:
        return (len(commands.receiver.received) == count and not window.controller.batch_running()
                and window.study_list.model.rowCount() == count
                and all(r.finished for r in window.study_list.model.rows))

    assert send_files(node, [FILMS[0]], calling_ae="MODALITY", timeout_s=10).ok
    qtbot.waitUntil(lambda: settled(1), timeout=WAIT_MS)
    first = window.study_list.model.rows[0]
    window.controller.open_paths([FILMS[1]])  # the user looks at another film in between: a new set
    qtbot.waitUntil(lambda: window.controller.current_result is not None, timeout=WAIT_MS)
    assert send_files(node, [FILMS[1]], calling_ae="MODALITY", timeout_s=10).ok
    qtbot.waitUntil(lambda: settled(2), timeout=WAIT_MS)
    rows = window.study_list.model.rows
    assert rows[1].path == first.path and rows[1].record == first.record
    lines = [json.loads(line) for line in audit.audit_path().read_text().splitlines()]
    assert sum(line.get("file_sha256") == sha256_file(first.path) for line in lines) == 1
    commands.apply_config(NodeConfig(ae_title="PNEUMO", port=port, listening=False, allowed_callers=("MODALITY",)))


def test_stored_listening_starts_after_the_first_paint_without_blocking(qtbot, window) -> None:
    port = free_port()
    window.settings.dicom_nodes = NodeConfig(ae_title="PNEUMO", port=port, listening=True,
                                             allowed_callers=("MODALITY",))
    commands = window.dicom_commands
    commands.start()  # pynetdicom is imported on a worker; the listener binds when that is done
    qtbot.waitUntil(lambda: commands.receiver.address == ("127.0.0.1", port), timeout=WAIT_MS)
    assert _listening_on(port) == ["127.0.0.1"]
    commands.shutdown()
    assert _listening_on(port) == []


def test_a_rejected_association_is_counted_in_the_receiving_status_and_logged(qtbot, window, caplog) -> None:
    """Issue 25 item 7: a caller not allowed, or an association addressed to another AE title, is rejected, the
    app log names the caller and the reason, and the status bar counts the rejections."""
    import logging

    from pneumo_desktop.dicom_net.send import send_files

    port = free_port()
    commands = window.dicom_commands
    commands.apply_config(NodeConfig(ae_title="PNEUMO", port=port, listening=True, allowed_callers=("MODALITY",)))
    caplog.set_level(logging.WARNING, logger="pneumo_desktop")
    with pytest.raises(DicomNetworkError):
        send_files(DicomNode("PNEUMO", "127.0.0.1", port), [FILMS[0]], calling_ae="STRANGER", timeout_s=10)
    with pytest.raises(DicomNetworkError):
        send_files(DicomNode("ELSEWHERE", "127.0.0.1", port), [FILMS[0]], calling_ae="MODALITY", timeout_s=10)
    qtbot.waitUntil(lambda: commands.receiver.rejected == 2, timeout=WAIT_MS)
    label = commands.inbox_label
    assert label.isVisible() and label.text() == "0 received over DICOM, 2 rejected"
    assert window.statusBar().currentMessage() == (
        "Receiving: Rejected an association from 'MODALITY' to 'ELSEWHERE': it was addressed to another AE "
        "title (2 rejected this session; see the log).")
    assert "rejected an association from 'STRANGER' to 'PNEUMO': its calling AE title is not among" in caplog.text
    assert commands.receiver.received == []
    commands.apply_config(NodeConfig(ae_title="PNEUMO", port=port, listening=False, allowed_callers=("MODALITY",)))
