"""The client against DCMTK's dcmqrscp (Debian ``dcmtk``), an archive other than Orthanc: search, retrieve by C-GET
and by C-MOVE, Verify, and a caller it does not list. dcmqrscp as set up here cannot convert compressed films and
sends each over the first context accepted for its class (uncompressed), so of the six-syntax study only the
uncompressed film arrives: the test holds the app to saying exactly that (how many of how many, and why), instead of
a bare status code or a claim of success."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from pneumo_desktop.dicom_net.echo import verify_node
from pneumo_desktop.dicom_net.nodes import C_GET, C_MOVE, DicomNetworkError, DicomNode
from pneumo_desktop.dicom_net.query_retrieve import MoveDestination, find_studies, retrieve_chest_films
from tests.dicom_net.film_syntaxes import SYNTAXES, chest_study
from tests.dicom_net.orthanc import free_port

DCMQRSCP, DCMQRIDX = shutil.which("dcmqrscp"), shutil.which("dcmqridx")
pytestmark = pytest.mark.skipif(DCMQRSCP is None or DCMQRIDX is None,
                                reason="DCMTK is missing (install it: apt-get install -y dcmtk)")
APP = "PNEUMO"


@pytest.fixture(scope="module")
def dcmqrscp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DicomNode, str, int]]:
    folder = tmp_path_factory.mktemp("dcmqrscp")
    database = folder / "db"
    database.mkdir()
    study_uid, films = chest_study(folder)
    port, app_port = free_port(), free_port()
    # dcmqrscp matches a peer by the host name it resolves: 127.0.0.1 comes in as "localhost".
    (folder / "dcmqrscp.cfg").write_text(
        f"NetworkTCPPort = {port}\nMaxPDUSize = 16384\nMaxAssociations = 16\n"
        f"HostTable BEGIN\npneumo = ({APP}, localhost, {app_port})\nHostTable END\n"
        "VendorTable BEGIN\nVendorTable END\n"
        f"AETable BEGIN\nDCMQR {database} RW (200, 1024mb) pneumo\nAETable END\n", encoding="utf-8")
    assert DCMQRSCP is not None and DCMQRIDX is not None
    subprocess.run([DCMQRIDX, str(database), *map(str, films.values())], check=True, timeout=60)
    with (folder / "dcmqrscp.log").open("wb") as log:
        process = subprocess.Popen([DCMQRSCP, "-c", str(folder / "dcmqrscp.cfg")], stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        _wait_for(port)
        yield DicomNode("DCMQR", "127.0.0.1", port), study_uid, app_port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("method", [C_GET, C_MOVE])
def test_dcmqrscp_sends_the_film_it_can_and_the_app_says_what_it_could_not(dcmqrscp, method: str,
                                                                           tmp_path: Path) -> None:
    node, study_uid, app_port = dcmqrscp
    node = DicomNode(node.ae_title, node.host, node.port, method)
    assert [m.study_uid for m in find_studies(node, patient_id="SYNTAXES-1", calling_ae=APP)] == [study_uid]
    result = retrieve_chest_films(node, study_uid, tmp_path, calling_ae=APP, timeout_s=30,
                                  move_to=MoveDestination(APP, "127.0.0.1", app_port))
    (film,) = result.films
    assert pydicom.dcmread(film, stop_before_pixels=True).file_meta.TransferSyntaxUID in \
        ("1.2.840.10008.1.2", ExplicitVRLittleEndian)
    total = len(SYNTAXES)
    assert f"could not send {total - 1} of {total} films" in result.problem
    assert "0xA702" in result.problem and "cannot convert" in result.problem
    assert "try again later" not in result.problem  # dcmqrscp's "out of resources" is not about load here


def test_verify_against_dcmqrscp(dcmqrscp) -> None:
    node, _, _ = dcmqrscp
    assert verify_node(node, calling_ae=APP, timeout_s=10).endswith("a study search (C-FIND) succeeded.")
    moving = verify_node(DicomNode(node.ae_title, node.host, node.port, C_MOVE), calling_ae=APP, timeout_s=10)
    # dcmqrscp answers success to a move of a study it does not hold: that proves nothing about the destination.
    assert "was accepted, but with nothing to send" in moving and "the first retrieve will tell" in moving
    with pytest.raises(DicomNetworkError, match="refused the association.*'STRANGER'"):
        verify_node(node, calling_ae="STRANGER", timeout_s=10)


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"dcmqrscp did not listen on {port}")
