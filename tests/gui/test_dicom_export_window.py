"""File ▸ Export as DICOM and Send Results in the window: enabled only for a scored DICOM with hide-PHI off (the
tooltip says why otherwise), written on a worker with the warnings the panel shows, never replacing a file
without asking, never into an input folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from pneumo_desktop.core import audit
from tests.conftest import DICOM_DIR
from tests.core import dicom_factory
from tests.gui.conftest import WAIT_MS, sample

FILM = DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm"
AGE_WARNING = "outside the model's intended 1-5 years"


@pytest.fixture(autouse=True)
def _no_message_boxes(window) -> list[str]:
    """A modal box would wait for a click forever: what the window would have said is kept instead."""
    told: list[str] = []
    window.dicom_commands._inform = lambda _parent, message: told.append(message)
    return told


def _shown(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([path])


def _adult(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    ds = dicom_factory.make_dataset(dicom_factory.gradient(128, 112), PatientAge="062Y",
                                    StudyInstanceUID=generate_uid(), SeriesInstanceUID=generate_uid())
    return dicom_factory.write(ds, folder / "adult.dcm")


def _sr_texts(path: Path) -> list[str]:
    ds = pydicom.dcmread(path)
    found: list[str] = []

    def walk(items) -> None:  # type: ignore[no-untyped-def]
        for item in items:
            if "TextValue" in item:
                found.append(str(item.TextValue))
            if "ContentSequence" in item:
                walk(item.ContentSequence)

    walk(ds.ContentSequence)
    return found


def test_nothing_shown_or_a_raster_film_leaves_the_action_disabled_saying_why(qtbot, window) -> None:
    action = window.actions.export_dicom
    assert not action.isEnabled() and "open a DICOM film" in action.toolTip()
    _shown(qtbot, window, sample())
    assert not action.isEnabled()
    assert sample().name in action.toolTip() and "not a DICOM file" in action.toolTip()
    assert not window.actions.send_results.isEnabled()


def test_hide_phi_disables_the_export_and_says_why(qtbot, window, tmp_path: Path) -> None:
    film = tmp_path / "in" / FILM.name
    film.parent.mkdir()
    shutil.copy(FILM, film)
    _shown(qtbot, window, film)
    assert window.actions.export_dicom.isEnabled()
    window.set_hide_phi(True)
    action = window.actions.export_dicom
    assert not action.isEnabled() and "hide-PHI" in action.toolTip() and film.name not in action.toolTip()
    window.set_hide_phi(False)
    assert action.isEnabled()


def test_export_writes_the_three_objects_with_the_panels_warnings(qtbot, window, tmp_path: Path,
                                                                  _no_message_boxes: list[str]) -> None:
    film = _adult(tmp_path / "in")
    _shown(qtbot, window, film)
    shown_warnings = window._warnings()
    assert any(AGE_WARNING in w for w in shown_warnings)
    out = tmp_path / "out"
    out.mkdir()
    commands = window.dicom_commands
    commands._ask_folder = lambda *_: str(out)
    window.actions.export_dicom.trigger()
    qtbot.waitUntil(lambda: len(commands.last_written) == 3 or bool(_no_message_boxes), timeout=WAIT_MS)
    assert _no_message_boxes == []
    assert {p.parent for p in commands.last_written} == {out}
    assert "Wrote 3 DICOM objects" in window.statusBar().currentMessage()
    sr = next(p for p in commands.last_written if p.name.endswith("_pneumonia_sr.dcm"))
    texts = _sr_texts(sr)
    assert all(w in texts for w in shown_warnings)
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["adult.dcm"]


def test_existing_results_are_replaced_only_after_asking(qtbot, window, tmp_path: Path) -> None:
    film = _adult(tmp_path / "in")
    _shown(qtbot, window, film)
    out = tmp_path / "out"
    out.mkdir()
    commands = window.dicom_commands
    commands._ask_folder = lambda *_: str(out)
    window.actions.export_dicom.trigger()
    qtbot.waitUntil(lambda: len(commands.last_written) == 3, timeout=WAIT_MS)
    before = {p: p.read_bytes() for p in commands.last_written}
    questions: list[str] = []
    commands._confirm = lambda _parent, question: questions.append(question) or False
    commands.last_written = []
    window.actions.export_dicom.trigger()
    qtbot.wait(300)
    assert len(questions) == 1 and "already exist" in questions[0]
    assert commands.last_written == [] and {p: p.read_bytes() for p in before} == before
    commands._confirm = lambda _parent, _question: True
    window.actions.export_dicom.trigger()
    qtbot.waitUntil(lambda: len(commands.last_written) == 3, timeout=WAIT_MS)
    assert all(p.read_bytes() != before[p] for p in before)  # new SOP Instance UIDs


def test_the_input_folder_is_refused(qtbot, window, tmp_path: Path) -> None:
    film = _adult(tmp_path / "in")
    _shown(qtbot, window, film)
    told: list[str] = []
    commands = window.dicom_commands
    commands._ask_folder = lambda *_: str(film.parent)
    commands._inform = lambda _parent, message: told.append(message)
    window.actions.export_dicom.trigger()
    assert told and "folder the images were opened from" in told[0]
    assert sorted(p.name for p in film.parent.iterdir()) == ["adult.dcm"]


def test_send_without_a_node_is_disabled_and_a_dead_node_is_a_clear_failed_audit_line(qtbot, window,
                                                                                      tmp_path: Path) -> None:
    from pneumo_desktop.dicom_net.node_config import NodeConfig
    from pneumo_desktop.dicom_net.nodes import DicomNode
    from tests.dicom_net.orthanc import free_port

    film = _adult(tmp_path / "in")
    _shown(qtbot, window, film)
    action = window.actions.send_results
    assert not action.isEnabled() and "no DICOM node is configured" in action.toolTip()
    commands = window.dicom_commands
    commands.apply_config(NodeConfig(remotes=(DicomNode("NOBODY", "127.0.0.1", free_port()),)))
    assert action.isEnabled()
    told: list[str] = []
    commands._inform = lambda _parent, message: told.append(message)
    action.trigger()
    qtbot.waitUntil(lambda: commands.last_send is not None, timeout=60_000)
    assert isinstance(commands.last_send, str) and "connection refused" in commands.last_send
    assert told and "NOBODY" in told[0]
    sha = window.controller.study.image.file_sha256
    (line,) = [e for e in audit.read_lines() if e.get("event") == "dicom_send"]
    assert line == line | {"source": "gui", "file_sha256": sha, "destination_ae": "NOBODY", "sent": 0,
                           "failed": 3, "outcome": "failed"}
    assert set(line) == set(audit.SEND_FIELDS)
    assert not list(Path(audit.audit_path().parent / "inbox" / "outbox").iterdir())  # nothing left behind


@pytest.mark.parametrize("sent,failed,outcome", [(3, 0, "ok"), (2, 1, "partial"), (0, 3, "failed")])
def test_send_lines_carry_no_phi_and_prediction_lines_are_unchanged(sent: int, failed: int, outcome: str) -> None:
    entry = audit.send_entry("ab" * 32, "m", "cd" * 32, destination_ae="PACS", sent=sent, failed=failed,
                             source="gui")
    assert tuple(entry) == audit.SEND_FIELDS and entry["outcome"] == outcome
    assert audit.FIELDS == ("time", "app_version", "source", "file_sha256", "model", "model_sha256", "probability",
                            "label", "threshold", "gate")


def test_the_audit_viewer_shows_send_lines_beside_predictions(qtbot, window) -> None:
    _shown(qtbot, window, sample())
    assert audit.record_send("ef" * 32, "tiny", "01" * 32, destination_ae="ORTHANC", sent=2, failed=1, source="gui")
    window.actions.audit_log.trigger()
    dialog = window.help_commands.audit_dialog
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=WAIT_MS)
    header = [dialog.table.horizontalHeaderItem(c).text() for c in range(dialog.table.columnCount())]
    newest = dict(zip(header, (dialog.table.item(0, c).text() for c in range(len(header))), strict=True))
    older = dict(zip(header, (dialog.table.item(1, c).text() for c in range(len(header))), strict=True))
    assert newest["event"] == "dicom_send" and newest["destination ae"] == "ORTHANC"
    assert (newest["sent"], newest["failed"], newest["outcome"], newest["probability"]) == ("2", "1", "partial", "")
    assert older["event"] == "prediction" and older["probability"] and older["destination ae"] == ""
    dialog.close()


def test_a_send_to_a_silent_pacs_can_be_cancelled_from_the_status_bar(qtbot, window, tmp_path: Path) -> None:
    import socket

    from pneumo_desktop.dicom_net.node_config import NodeConfig
    from pneumo_desktop.dicom_net.nodes import DicomNode

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers: the send would wait for its 30 s timeout
    try:
        _shown(qtbot, window, _adult(tmp_path / "in"))
        commands = window.dicom_commands
        commands.apply_config(NodeConfig(remotes=(DicomNode("SILENT", "127.0.0.1", silent.getsockname()[1]),)))
        button = commands.cancel_send_button
        assert button.isHidden()
        window.actions.send_results.trigger()
        assert button.isVisible() and "Sending the results to SILENT" in window.statusBar().currentMessage()
        button.click()
        assert button.isHidden() and window.statusBar().currentMessage() == "Sending cancelled."
    finally:
        silent.close()  # the abandoned association fails at once instead of at its timeout
    qtbot.wait(300)
    assert commands.last_send is None  # nothing is reported for a cancelled send


def test_quitting_during_a_send_to_a_silent_pacs_stops_every_worker(qtbot, window, tmp_path: Path) -> None:
    """The send waits on a node that never answers (its timeout is 20 s); quitting aborts the association, so
    the controller's shutdown finds every worker stopped (it gives them 5 s) instead of leaving one behind."""
    import socket

    from pneumo_desktop.dicom_net.node_config import NodeConfig
    from pneumo_desktop.dicom_net.nodes import DicomNode

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        _shown(qtbot, window, _adult(tmp_path / "in"))
        commands = window.dicom_commands
        commands.apply_config(NodeConfig(remotes=(DicomNode("SILENT", "127.0.0.1", silent.getsockname()[1]),)))
        window.actions.send_results.trigger()
        silent.settimeout(60)
        connection, _ = silent.accept()  # the send has connected and now waits for an answer that never comes
        try:
            assert window.controller.shutdown() is True
        finally:
            connection.close()
    finally:
        silent.close()
