"""What the client says when it cannot work: the real cause of a failed connection (refused at once, a host with
no route, a name nobody knows, a connect that times out: with the seconds it really waited), a node that answers
nothing, and Verify naming the step a PACS refused (the study search, the move destination)."""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from pneumo_desktop.dicom_net import association
from pneumo_desktop.dicom_net.echo import verify_node
from pneumo_desktop.dicom_net.nodes import C_GET, C_MOVE, DicomNetworkError, DicomNode
from pneumo_desktop.dicom_net.query_retrieve import failure_advice, find_studies
from tests.dicom_net.orthanc import ORTHANC, ORTHANC_AE, SKIP_REASON, free_port, start_orthanc


def test_a_refused_connection_is_named_at_once_not_as_a_timeout() -> None:
    node = DicomNode("NOBODY", "127.0.0.1", free_port())
    started = time.monotonic()
    with pytest.raises(DicomNetworkError) as caught:
        find_studies(node, patient_id="X", timeout_s=20)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert "connection refused" in message and f"port {node.port}" in message
    assert "did not answer" not in message and "20 s" not in message


def test_a_connect_that_times_out_says_the_seconds_it_waited() -> None:
    # A listening socket whose accept queue is full: Linux drops further SYNs, so a connect hangs until timeout.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(server.getsockname())
            fillers.append(filler)
        time.sleep(0.2)
        probe = socket.socket()
        probe.settimeout(0.5)
        if probe.connect_ex(server.getsockname()) == 0:
            probe.close()
            pytest.skip("this kernel completes connections beyond the backlog: no way to make a connect hang")
        probe.close()
        node = DicomNode("FULL", *server.getsockname())
        started = time.monotonic()
        with pytest.raises(DicomNetworkError, match=r"timed out after 2 s") as caught:
            find_studies(node, patient_id="X", timeout_s=2)
        assert 1.5 < time.monotonic() - started < 6
        assert "did not accept a connection" in str(caught.value)
    finally:
        for filler in fillers:
            filler.close()
        server.close()


def test_a_peer_that_accepts_and_stays_silent_says_so_with_the_real_seconds() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        held = []
        threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
        with pytest.raises(DicomNetworkError, match=r"accepted the connection but did not answer the association "
                                                    r"request within 1 s"):
            find_studies(DicomNode("SILENT", *server.getsockname()), patient_id="X", timeout_s=1)
        for connection, _ in held:
            connection.close()


@pytest.mark.parametrize(("error", "words"), [
    (OSError(errno.EHOSTUNREACH, "No route to host"), "host unreachable"),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "host unreachable"),
    (socket.gaierror(-2, "Name or service not known"), "is not known"),
    (TimeoutError("timed out"), "timed out after"),
])
def test_each_connection_failure_is_named(monkeypatch: pytest.MonkeyPatch, error: OSError, words: str) -> None:
    def fail(*_args: object, **_kwargs: object) -> socket.socket:
        raise error

    monkeypatch.setattr(association.socket, "create_connection", fail)
    assert words in association.connection_failure("pacs.example", 104, timeout_s=1)


def test_failure_statuses_come_with_advice_in_words() -> None:
    node = DicomNode("PACS", "10.0.0.5", 104)
    get = failure_advice(0xC000, node, C_GET)
    assert "0xC000" in get and "unable to process" in get and "transcode" in get and "C-MOVE" in get
    move = failure_advice(0xC000, node, C_MOVE, move_aet="PNEUMO")
    assert "'PNEUMO'" in move and "open the connection" in move
    assert "does not know the move destination 'PNEUMO'" in failure_advice(0xA801, node, C_MOVE, move_aet="PNEUMO")
    assert "out of resources" in failure_advice(0xA702, node, C_GET)
    assert "C-MOVE" in failure_advice(0x0122, node, C_GET)


@pytest.fixture()
def pacs_refusing_moves() -> Iterator[DicomNode]:
    """A pynetdicom SCP that echoes and searches but knows no move destination (answers 0xA801, as DCMTK's
    dcmqrscp does for an unknown AE title)."""
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import (  # type: ignore[attr-defined]
        StudyRootQueryRetrieveInformationModelFind,
        StudyRootQueryRetrieveInformationModelMove,
        Verification,
    )

    def find(_event):  # nothing matches
        return iter(())

    def move(_event):
        yield None, None  # pynetdicom: an unknown destination, sent as status 0xA801

    scp = AE(ae_title="STRICT")
    for context in (Verification, StudyRootQueryRetrieveInformationModelFind,
                    StudyRootQueryRetrieveInformationModelMove):
        scp.add_supported_context(context)
    server = scp.start_server(("127.0.0.1", 0), block=False,
                              evt_handlers=[(evt.EVT_C_FIND, find), (evt.EVT_C_MOVE, move)])
    try:
        yield DicomNode("STRICT", "127.0.0.1", server.server_address[1], C_MOVE)
    finally:
        server.shutdown()


def test_verify_names_the_move_destination_the_pacs_does_not_know(pacs_refusing_moves: DicomNode) -> None:
    with pytest.raises(DicomNetworkError) as caught:
        verify_node(pacs_refusing_moves, calling_ae="PNEUMO", timeout_s=5)
    message = str(caught.value)
    assert "C-ECHO succeeded" in message and "a study search (C-FIND) succeeded" in message
    assert "refused a C-MOVE to this app's AE title 'PNEUMO'" in message
    assert "does not know the move destination 'PNEUMO'" in message and "0xA801" in message
    # The same node retrieving by C-GET is not asked to move.
    node = DicomNode(pacs_refusing_moves.ae_title, pacs_refusing_moves.host, pacs_refusing_moves.port, C_GET)
    assert verify_node(node, calling_ae="PNEUMO", timeout_s=5).endswith("a study search (C-FIND) succeeded.")


def test_verify_says_when_the_node_does_not_offer_a_study_search() -> None:
    from pynetdicom import AE
    from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

    scp = AE(ae_title="ECHOONLY")
    scp.add_supported_context(Verification)
    server = scp.start_server(("127.0.0.1", 0), block=False)
    try:
        with pytest.raises(DicomNetworkError, match="C-ECHO succeeded, but it does not offer C-FIND"):
            verify_node(DicomNode("ECHOONLY", "127.0.0.1", server.server_address[1]), timeout_s=5)
    finally:
        server.shutdown()


@pytest.mark.skipif(ORTHANC is None, reason=SKIP_REASON)
def test_verify_against_orthanc_which_echoes_anyone(tmp_path) -> None:
    server = start_orthanc(tmp_path, {"app": ["PNEUMO", "127.0.0.1", free_port()]})
    try:
        node = DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port)
        assert verify_node(node, calling_ae="PNEUMO", timeout_s=5) == \
            f"{node} answered: C-ECHO succeeded; a study search (C-FIND) succeeded."
        # Orthanc echoes a caller it does not know, then aborts its search: Verify says which step failed.
        with pytest.raises(DicomNetworkError) as caught:
            verify_node(node, calling_ae="STRANGER", timeout_s=5)
        assert "C-ECHO succeeded, but it aborted a study search (C-FIND)" in str(caught.value)
        assert "'STRANGER'" in str(caught.value)
        moving = verify_node(DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port, C_MOVE), calling_ae="PNEUMO",
                             timeout_s=5)
        # Orthanc looks for the study before the destination: Verify does not claim the destination is known.
        assert "did not say whether it knows 'PNEUMO'" in moving and "the first retrieve will tell" in moving
    finally:
        server.stop()
