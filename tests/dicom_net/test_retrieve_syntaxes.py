"""Every chest film of a study comes back from a real Orthanc (Debian's, no GDCM plugin, so it cannot transcode
J2K), by C-GET and by C-MOVE, in the syntax it was stored in: J2K lossy and lossless, JPEG-LS, RLE, JPEG baseline
and uncompressed. C-MOVE also goes to the app's own running listener and to DCMTK's storescp; a move to a
destination the PACS does not know, and a C-GET to a PACS that offers only C-MOVE, say so in words."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from pathlib import Path

import pydicom
import pytest

from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.scoring import model_input_for
from pneumo_desktop.dicom_net.listener import Listener
from pneumo_desktop.dicom_net.nodes import C_GET, C_MOVE, DicomNetworkError, DicomNode
from pneumo_desktop.dicom_net.query_retrieve import MoveDestination, move_chest_films, retrieve_chest_films
from pneumo_desktop.dicom_net.send import send_files
from tests.dicom_net.film_syntaxes import SYNTAXES, chest_study
from tests.dicom_net.orthanc import ORTHANC, ORTHANC_AE, SKIP_REASON, free_port, start_orthanc

pytestmark = pytest.mark.skipif(ORTHANC is None, reason=SKIP_REASON)
STORESCP = shutil.which("storescp")
APP = "PNEUMO"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory):
    """Orthanc holding the six-syntax study; it knows the app (PNEUMO) and DCMTK's storescp as destinations."""
    folder = tmp_path_factory.mktemp("orthanc_syntaxes")
    app_port, storescp_port = free_port(), free_port()
    study_uid, films = chest_study(folder)
    (folder / "orthanc").mkdir()
    server = start_orthanc(folder / "orthanc",
                           {"app": [APP, "127.0.0.1", app_port], "dcmtk": ["STORESCP", "127.0.0.1", storescp_port]})
    node = DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port)
    try:
        assert send_files(node, list(films.values()), calling_ae=APP).ok
        yield server, study_uid, films, app_port, storescp_port
    finally:
        server.stop()


def _pixels(path: Path) -> str:
    return hashlib.sha256(pydicom.dcmread(path).PixelData).hexdigest()


def _check_every_film(received: list[Path], films: dict[str, Path], tiny_predictor) -> None:
    by_syntax = {str(pydicom.dcmread(p, stop_before_pixels=True).file_meta.TransferSyntaxUID): p for p in received}
    assert sorted(by_syntax) == sorted(str(s) for s in SYNTAXES)  # each film once, in the syntax it was stored in
    for syntax, path in by_syntax.items():
        assert _pixels(path) == _pixels(films[syntax]), syntax  # the stored bytes, not a transcoded copy
        prediction = tiny_predictor.predict(model_input_for(load_image(path), tiny_predictor.size))
        assert 0.0 <= prediction.probability <= 1.0, syntax  # and it decodes and scores


@pytest.mark.parametrize("method", [C_GET, C_MOVE])
def test_every_chest_film_comes_back_in_its_own_syntax(archive, method: str, tiny_predictor, tmp_path: Path) -> None:
    server, study_uid, films, app_port, _ = archive
    node = DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port, method)
    result = retrieve_chest_films(node, study_uid, tmp_path, calling_ae=APP, timeout_s=30,
                                  move_to=MoveDestination(APP, "127.0.0.1", app_port))
    assert result.problem == "" and len(result.films) == len(SYNTAXES)
    assert sorted(result.films) == sorted(tmp_path.glob("*.dcm"))
    _check_every_film(result.films, films, tiny_predictor)


def test_move_to_the_apps_running_listener(archive, tiny_predictor, tmp_path: Path) -> None:
    server, study_uid, films, app_port, _ = archive
    arrived: list[Path] = []
    listener = Listener(ae_title=APP, port=app_port, inbox=tmp_path, allowed_callers=[ORTHANC_AE],
                        on_received=arrived.append)
    listener.start()
    try:
        count, problem = move_chest_films(DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port, C_MOVE), study_uid,
                                          APP, calling_ae=APP, timeout_s=30)
    finally:
        listener.stop()
    assert count == len(SYNTAXES) and len(arrived) == len(SYNTAXES) and problem == ""
    _check_every_film(arrived, films, tiny_predictor)


@pytest.mark.skipif(STORESCP is None, reason="DCMTK is missing (install it: apt-get install -y dcmtk)")
def test_move_to_dcmtk_storescp(archive, tmp_path: Path) -> None:
    server, study_uid, films, _, storescp_port = archive
    assert STORESCP is not None
    # +xa: accept every transfer syntax DCMTK knows, so nothing is transcoded on the way.
    scp = subprocess.Popen([STORESCP, "-aet", "STORESCP", "+xa", "-od", str(tmp_path), str(storescp_port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(storescp_port)
        count, problem = move_chest_films(DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port, C_MOVE), study_uid,
                                          "STORESCP", calling_ae=APP, timeout_s=30)
    finally:
        scp.terminate()
        scp.wait(timeout=10)
    stored = [p for p in tmp_path.iterdir() if p.is_file()]
    assert count == len(SYNTAXES) and len(stored) == len(SYNTAXES) and problem == ""
    assert {_pixels(p) for p in stored} == {_pixels(p) for p in films.values()}


def test_a_move_the_pacs_cannot_deliver_is_said_in_words(archive, tmp_path: Path) -> None:
    server, study_uid, _, _, _ = archive
    node = DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port, C_MOVE)
    # The PACS does not know this destination (Orthanc answers 0xC000 "unable to process" for it).
    with pytest.raises(DicomNetworkError) as caught:
        retrieve_chest_films(node, study_uid, tmp_path, calling_ae=APP, timeout_s=10,
                             move_to=MoveDestination("NOT_IN_PACS", "127.0.0.1", free_port()))
    message = str(caught.value)
    assert "0xC000" in message and "unable to process" in message and "'NOT_IN_PACS'" in message
    assert "open the connection" in message  # advice, not only a code
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DicomNetworkError, match="needs this app's receiving AE"):
        retrieve_chest_films(node, study_uid, tmp_path, calling_ae=APP, timeout_s=10)


def test_c_get_to_a_pacs_that_offers_only_c_move_says_to_switch(tmp_path: Path) -> None:
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import (  # type: ignore[attr-defined]
        StudyRootQueryRetrieveInformationModelFind,
        StudyRootQueryRetrieveInformationModelMove,
    )

    def find(event):  # one CR series in the study
        identifier = pydicom.Dataset()
        identifier.QueryRetrieveLevel, identifier.SeriesInstanceUID, identifier.Modality = "SERIES", "1.2.3.4", "CR"
        identifier.StudyInstanceUID = "1.2.3"
        yield 0xFF00, identifier

    scp = AE(ae_title="MOVEONLY")
    scp.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    scp.add_supported_context(StudyRootQueryRetrieveInformationModelMove)
    server = scp.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_FIND, find)])
    try:
        node = DicomNode("MOVEONLY", "127.0.0.1", server.server_address[1], C_GET)
        with pytest.raises(DicomNetworkError, match="does not offer C-GET.*retrieve by C-MOVE"):
            retrieve_chest_films(node, "1.2.3", tmp_path, calling_ae=APP, timeout_s=5)
    finally:
        server.shutdown()


def _wait_for_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"storescp did not listen on {port}")
