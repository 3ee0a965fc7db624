"""The window against a real Orthanc: query → retrieve → scored in the study list → send the results back →
the SR read from Orthanc's REST API; Orthanc pushes a film to the window's listener → it appears scored; and
the query window's clear messages (no node, a PACS that refuses this app, a study with no chest series)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from pneumo_desktop.core import audit
from pneumo_desktop.dicom_net.node_config import NodeConfig
from pneumo_desktop.dicom_net.nodes import DicomNode
from pneumo_desktop.dicom_net.received_files import received_file_name
from pneumo_desktop.dicom_net.send import send_files
from pneumo_desktop.gui.study_model import PATH_ROLE
from tests.conftest import DICOM_DIR
from tests.core import dicom_factory
from tests.dicom_net.orthanc import ORTHANC, ORTHANC_AE, SKIP_REASON, free_port, start_orthanc
from tests.dicom_out.sr_content import json_probability
from tests.gui.conftest import WAIT_MS

pytestmark = pytest.mark.skipif(ORTHANC is None, reason=SKIP_REASON)
FILM = DICOM_DIR / "cr_mono1_8bit_jpeg_baseline.dcm"  # PatientID 12345678, a CR image
PUSHED = DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm"
PUSHED_TOO = DICOM_DIR / "cr_mono2_8bit_jpeg_baseline.dcm"  # a third patient
SR = "1.2.840.10008.5.1.4.1.1.88.33"
NET_MS = 90_000


@pytest.fixture(scope="module")
def pacs(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("orthanc_gui")
    app_port = free_port()
    server = start_orthanc(folder, {"app": ["PNEUMO", "127.0.0.1", app_port]})
    try:
        # A study with no chest series: a CT-labelled image under its own patient.
        ct = dicom_factory.make_dataset(dicom_factory.gradient(64, 64), modality="CT", PatientID="NOCHEST",
                                        StudyInstanceUID=generate_uid(), SeriesInstanceUID=generate_uid())
        ct_path = dicom_factory.write(ct, folder / "ct.dcm")
        assert send_files(DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port), [FILM, PUSHED, PUSHED_TOO, ct_path],
                          calling_ae="PNEUMO").ok
        yield server, app_port
    finally:
        server.stop()


def _configure(window, server, app_port: int, *, listening: bool = False, ae_title: str = "PNEUMO",
               retrieve: str = "C-GET", callers: tuple[str, ...] = (ORTHANC_AE,)) -> None:
    window.dicom_commands._inform = lambda _parent, _message: None
    window.dicom_commands.apply_config(NodeConfig(
        ae_title=ae_title, port=app_port, listening=listening, allowed_callers=callers,
        remotes=(DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port, retrieve),)))


def _search(qtbot, query, **fields: str) -> None:
    for name, value in fields.items():
        getattr(query, name).setText(value)
    query.search_button.click()
    qtbot.waitUntil(lambda: query._job is None, timeout=NET_MS)


def test_query_retrieve_score_and_send_back(qtbot, window, pacs) -> None:
    server, app_port = pacs
    _configure(window, server, app_port)
    query = window.dicom_commands.open_query_retrieve()
    _search(qtbot, query, patient_id="12345678")
    film = pydicom.dcmread(FILM, stop_before_pixels=True)
    assert [m.study_uid for m in query.matches] == [str(film.StudyInstanceUID)]
    assert query.table.item(0, 0).text() == "Patient Anonymous"

    query.retrieve_button.click()
    assert query.cancel_button.isEnabled()  # the click returned while the PACS was still answering
    qtbot.waitUntil(lambda: window.study_list.model.rowCount() == 1
                    and window.study_list.model.rows[0].finished, timeout=NET_MS)
    row = window.study_list.model.rows[0]
    assert row.record.get("probability") is not None and row.record.get("error") is None
    assert row.path.name == received_file_name(film) and "retrieved" in row.path.parts
    assert "Retrieved 1 chest film" in query.message.text()

    window.study_list.select_row(0)
    qtbot.waitUntil(lambda: window.controller.study.prediction is not None
                    and window.actions.send_results.isEnabled(), timeout=WAIT_MS)
    window.actions.send_results.trigger()
    commands = window.dicom_commands
    qtbot.waitUntil(lambda: commands.last_send is not None, timeout=NET_MS)
    report = commands.last_send
    assert not isinstance(report, str), report
    assert len(report.sent) == 3 and not report.failed
    assert "Sent 3 objects" in window.statusBar().currentMessage()

    in_pacs = server.instances_of_study(str(film.StudyInstanceUID))
    (sr,) = [tags for tags in in_pacs if tags["SOPClassUID"] == SR]
    assert sr["PatientID"] == "12345678" and sr["SeriesInstanceUID"] != str(film.SeriesInstanceUID)
    assert sr["CurrentRequestedProcedureEvidenceSequence"][0]["ReferencedSeriesSequence"][0][
        "ReferencedSOPSequence"][0]["ReferencedSOPInstanceUID"] == str(film.SOPInstanceUID)
    shown = window.controller.study.prediction.probability
    assert json_probability(sr) == pytest.approx(shown, abs=1e-6)
    (line,) = [e for e in audit.read_lines() if e.get("event") == "dicom_send"]
    assert line["destination_ae"] == ORTHANC_AE and line["sent"] == 3 and line["outcome"] == "ok"
    assert "12345678" not in str(line) and "127.0.0.1" not in str(line)


def test_orthanc_pushes_to_the_listener_and_the_film_appears_scored(qtbot, window, pacs) -> None:
    server, app_port = pacs
    _configure(window, server, app_port, listening=True)
    uid = str(pydicom.dcmread(PUSHED, stop_before_pixels=True).SOPInstanceUID)
    (found,) = server.rest("POST", "/tools/lookup", uid)
    server.rest("POST", "/modalities/app/store", {"Resources": [found["ID"]], "Synchronous": True})
    qtbot.waitUntil(lambda: window.study_list.model.rowCount() == 1
                    and window.study_list.model.rows[0].finished, timeout=NET_MS)
    row = window.study_list.model.rows[0]
    assert row.path.name == received_file_name(pydicom.dcmread(PUSHED, stop_before_pixels=True))
    assert row.record.get("probability") is not None
    assert "received" in window.dicom_commands.inbox_label.text()


def test_a_push_while_reading_never_changes_the_film_on_screen_and_send_goes_to_it(qtbot, window, pacs,
                                                                                   tmp_path) -> None:
    """Issue 24 A1: the reader reads one patient; Orthanc pushes two films of two others. The film on screen, its
    result and the selected row stay; the list holds all three; Send Results goes to the film on screen."""
    server, app_port = pacs
    _configure(window, server, app_port, listening=True)
    folder = tmp_path / "reading"
    folder.mkdir()
    shutil.copy(FILM, folder / FILM.name)
    window.open_paths([folder])
    qtbot.waitUntil(lambda: window.controller.current_result is not None
                    and window.actions.send_results.isEnabled(), timeout=NET_MS)
    shown_path, result = window.controller.study.image.path, window.controller.current_result
    title, panel = window.windowTitle(), window.prediction_panel.headline.text()

    def selected() -> list[str]:
        return [i.data(PATH_ROLE) for i in window.study_list.table.selectionModel().selectedRows()]

    assert selected() == [str(shown_path)]
    uids = [str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in (PUSHED, PUSHED_TOO)]
    ids = [server.rest("POST", "/tools/lookup", uid)[0]["ID"] for uid in uids]
    server.rest("POST", "/modalities/app/store", {"Resources": ids, "Synchronous": True})
    qtbot.waitUntil(lambda: window.study_list.model.rowCount() == 3
                    and all(r.finished for r in window.study_list.model.rows), timeout=NET_MS)
    qtbot.wait(300)  # anything queued after the last result would have reached the window by now

    assert window.controller.study.image.path == shown_path
    assert window.controller.current_result is result
    assert window.windowTitle() == title and window.prediction_panel.headline.text() == panel
    assert selected() == [str(shown_path)]
    rows = window.study_list.model.rows
    assert {r.origin for r in rows} == {"opened", "received"}
    assert sum(r.origin == "received" and r.unseen for r in rows) == 2
    assert "received over DICOM" in window.dicom_commands.inbox_label.text()

    asked: list[str] = []
    window.dicom_commands._confirm_send = lambda _parent, question: asked.append(question) or True
    film = pydicom.dcmread(FILM, stop_before_pixels=True)
    before = len(server.instances_of_study(str(film.StudyInstanceUID)))
    window.dicom_commands.last_send = None
    window.actions.send_results.trigger()
    qtbot.waitUntil(lambda: window.dicom_commands.last_send is not None, timeout=NET_MS)
    assert not isinstance(window.dicom_commands.last_send, str), window.dicom_commands.last_send
    assert asked and "Patient, Anonymous" in asked[0] and FILM.name in asked[0]
    in_pacs = server.instances_of_study(str(film.StudyInstanceUID))
    assert len(in_pacs) == before + 3  # PDF, SR, capture: into the study on screen, not a received one
    window.dicom_commands.apply_config(NodeConfig(listening=False))


def test_clear_messages_for_no_node_no_chest_series_and_a_refusing_pacs(qtbot, window, pacs) -> None:
    server, app_port = pacs
    query = window.dicom_commands.open_query_retrieve()
    assert "No DICOM node is configured" in query.message.text() and not query.search_button.isEnabled()
    query.close()

    _configure(window, server, app_port)
    query = window.dicom_commands.open_query_retrieve()
    _search(qtbot, query, study_date="2024-01")
    assert "is not a study date" in query.message.text()
    _search(qtbot, query, study_date="", patient_id="NOCHEST")
    assert len(query.matches) == 1
    query.retrieve_button.click()
    qtbot.waitUntil(lambda: query._job is None, timeout=NET_MS)
    assert "no CR or DX series" in query.message.text()
    assert list((Path(audit.audit_path().parent) / "inbox" / "retrieved").iterdir()) == []  # nothing half-kept
    query.close()

    # Orthanc knows the app as PNEUMO only: another calling AE title is refused or gets nothing.
    _configure(window, server, app_port, ae_title="STRANGER")
    query = window.dicom_commands.open_query_retrieve()
    _search(qtbot, query, patient_id="12345678")
    assert query.matches == []
    assert "STRANGER" in query.message.text(), query.message.text()
    query.close()


def test_a_node_nobody_answers_is_said_plainly(qtbot, window) -> None:
    window.dicom_commands.apply_config(NodeConfig(remotes=(DicomNode("GHOST", "127.0.0.1", free_port()),)))
    query = window.dicom_commands.open_query_retrieve()
    _search(qtbot, query, patient_id="X")
    assert "connection refused" in query.message.text()
    query.close()
    shutil.rmtree(Path(audit.audit_path().parent) / "inbox", ignore_errors=True)


def _listening(port: int) -> bool:
    import psutil

    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port
               for c in psutil.Process().net_connections(kind="inet"))


def test_retrieve_by_c_move_opens_the_receiving_port_for_the_retrieve_only(qtbot, window, pacs) -> None:
    server, app_port = pacs
    _configure(window, server, app_port, retrieve="C-MOVE")
    assert not _listening(app_port)
    query = window.dicom_commands.open_query_retrieve()
    _search(qtbot, query, patient_id="12345678")
    query.retrieve_button.click()
    assert "by C-MOVE" in query.message.text()
    qtbot.waitUntil(lambda: window.study_list.model.rowCount() == 1
                    and window.study_list.model.rows[0].finished, timeout=NET_MS)
    row = window.study_list.model.rows[0]
    assert row.record.get("probability") is not None and row.record.get("error") is None
    assert row.path.name == received_file_name(pydicom.dcmread(FILM, stop_before_pixels=True))
    assert "retrieved" in row.path.parts and "Retrieved 1 chest film" in query.message.text()
    assert not _listening(app_port)  # the port closed again with the retrieve
    query.close()


def test_retrieve_by_c_move_while_receiving_goes_to_the_running_listener(qtbot, window, pacs) -> None:
    server, app_port = pacs
    _configure(window, server, app_port, retrieve="C-MOVE", listening=True, callers=("MODALITY",))
    query = window.dicom_commands.open_query_retrieve()
    _search(qtbot, query, patient_id="12345678")
    query.retrieve_button.click()
    qtbot.waitUntil(lambda: query._job is None, timeout=NET_MS)
    assert 'add ORTHANC to "Accept from"' in query.message.text()  # the listener would refuse the PACS
    query.close()

    _configure(window, server, app_port, retrieve="C-MOVE", listening=True)
    query = window.dicom_commands.open_query_retrieve()
    _search(qtbot, query, patient_id="12345678")
    query.retrieve_button.click()
    qtbot.waitUntil(lambda: window.study_list.model.rowCount() == 1
                    and window.study_list.model.rows[0].finished, timeout=NET_MS)
    assert "sent 1 chest film to this app's receiving AE" in query.message.text()
    row = window.study_list.model.rows[0]
    assert "received" in row.path.parts and row.record.get("probability") is not None
    assert "1 received" in window.dicom_commands.inbox_label.text()
    query.close()
    window.dicom_commands.shutdown()
