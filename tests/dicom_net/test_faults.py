"""Network faults give one clear sentence, never a traceback or a half-sent claim of success: nobody at the
address, a caller the node does not accept, and a PACS that dies part-way through a transfer."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import pytest

from pneumo_desktop.dicom_net.listener import Listener
from pneumo_desktop.dicom_net.nodes import DicomNetworkError, DicomNode
from pneumo_desktop.dicom_net.send import send_files
from tests.conftest import DICOM_DIR
from tests.dicom_net.orthanc import ORTHANC, ORTHANC_AE, SKIP_REASON, free_port, start_orthanc

FILM = DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm"


def test_nobody_listening_is_said_plainly() -> None:
    with pytest.raises(DicomNetworkError, match="connection refused: nothing listens on port"):
        send_files(DicomNode("NOBODY", "127.0.0.1", free_port()), [FILM], timeout_s=3)


def test_a_caller_the_listener_does_not_accept_is_refused(tmp_path: Path) -> None:
    arrived: queue.Queue[Path] = queue.Queue()
    listener = Listener(ae_title="PNEUMO", port=0, inbox=tmp_path, allowed_callers=["ORTHANC"],
                        on_received=arrived.put)
    listener.start()
    try:
        host, port = listener.address
        assert host == "127.0.0.1"
        with pytest.raises(DicomNetworkError, match="refused the association.*'STRANGER'"):
            send_files(DicomNode("PNEUMO", host, port), [FILM], calling_ae="STRANGER", timeout_s=5)
        outcome = send_files(DicomNode("PNEUMO", host, port), [FILM], calling_ae="ORTHANC", timeout_s=5)
    finally:
        listener.stop()
    assert outcome.ok and arrived.get(timeout=5).parent == tmp_path
    assert len(list(tmp_path.glob("*.dcm"))) == 1 and not list(tmp_path.glob(".*.part"))


def test_bad_node_settings_are_refused_before_any_socket() -> None:
    for text in ("no-at-sign:104", "AE@host:notaport", "WAY_TOO_LONG_AE_TITLE@h:104", "A\\B@h:104"):
        with pytest.raises(DicomNetworkError):
            DicomNode.parse(text)
    assert str(DicomNode.parse("ORTHANC@[::1]:4242")) == "ORTHANC@::1:4242"


@pytest.mark.skipif(ORTHANC is None, reason=SKIP_REASON)
def test_a_pacs_that_dies_mid_transfer_is_reported_with_what_was_stored(tmp_path: Path) -> None:
    server = start_orthanc(tmp_path, {})
    films = [FILM] * 6
    asked = []

    def kill_after_two() -> bool:
        if threading.current_thread() is not threading.main_thread():
            return False  # the association's abort watcher polls too; count the sender's checks, one per file
        asked.append(1)
        if len(asked) == 3:
            server.process.kill()
            server.process.wait(timeout=10)
        return False

    try:
        with pytest.raises(DicomNetworkError, match=r"stopped answering .*\(2 of 6 files were stored\)"):
            send_files(DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port), films, should_stop=kill_after_two,
                       timeout_s=5)
    finally:
        server.stop()


def test_two_hundred_films_in_one_association_all_arrive_whole(tmp_path: Path) -> None:
    from pydicom.uid import generate_uid

    from tests.core.dicom_factory import gradient, make_dataset, write

    sources = tmp_path / "sources"
    sources.mkdir()
    films = []
    for i in range(200):
        ds = make_dataset(gradient(32, 32), StudyInstanceUID="1.2.3.4", SeriesInstanceUID="1.2.3.4.5")
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        films.append(write(ds, sources / f"{i:03d}.dcm"))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    arrived: queue.Queue[Path] = queue.Queue()
    listener = Listener(ae_title="PNEUMO", port=0, inbox=inbox, allowed_callers=["SENDER"], on_received=arrived.put)
    listener.start()
    try:
        outcome = send_files(DicomNode("PNEUMO", *listener.address), films, calling_ae="SENDER", timeout_s=10)
    finally:
        listener.stop()
    assert outcome.ok and len(outcome.sent) == 200
    assert arrived.qsize() == 200 and len(list(inbox.glob("*.dcm"))) == 200 and not list(inbox.glob(".*"))


def test_a_peer_that_accepts_but_never_answers_times_out(tmp_path: Path) -> None:
    import socket
    import threading

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        held = []
        threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
        with pytest.raises(DicomNetworkError, match="did not answer the association request within 1 s"):
            send_files(DicomNode("SILENT", *server.getsockname()), [FILM], timeout_s=1)
        for connection, _ in held:
            connection.close()


@pytest.mark.timeout(120)  # the hang guard: without the abort each call would wait out its 600 s timeout
def test_cancelling_aborts_an_association_that_waits_on_a_silent_node() -> None:
    """A node that accepts the connection and never answers: ``should_stop`` ends the wait, for a send, a query
    and an echo alike, instead of the association's own timeout."""
    import socket

    from pneumo_desktop.dicom_net.echo import verify_node
    from pneumo_desktop.dicom_net.query_retrieve import find_studies

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    node = DicomNode("SILENT", "127.0.0.1", silent.getsockname()[1])
    try:
        for call in (lambda stop: send_files(node, [FILM], timeout_s=600, should_stop=stop),
                     lambda stop: find_studies(node, patient_id="X", timeout_s=600, should_stop=stop),
                     lambda stop: verify_node(node, timeout_s=600, should_stop=stop)):
            cancel = threading.Event()
            threading.Timer(0.5, cancel.set).start()
            with pytest.raises(DicomNetworkError, match="cancelled"):
                call(cancel.is_set)
    finally:
        silent.close()
