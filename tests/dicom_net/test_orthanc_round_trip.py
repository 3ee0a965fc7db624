"""Against a real Orthanc: the real fixtures are C-STOREd into it, Orthanc sends them to this app's listener,
they are scored, and the SR, Encapsulated PDF and heatmap capture go back; Orthanc's REST API then shows them
in the film's study with new series, the film referenced and the values written."""

from __future__ import annotations

import queue
import urllib.error
from pathlib import Path

import pydicom
import pytest

from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.scoring import model_input_for
from pneumo_desktop.dicom_net.listener import Listener
from pneumo_desktop.dicom_net.nodes import DicomNode
from pneumo_desktop.dicom_net.received_files import received_file_name
from pneumo_desktop.dicom_net.send import send_files
from pneumo_desktop.dicom_out import export_dicom_results
from tests.conftest import DICOM_DIR
from tests.dicom_net.orthanc import ORTHANC, ORTHANC_AE, SKIP_REASON, Orthanc, free_port, start_orthanc
from tests.dicom_out.sr_content import json_fingerprints, json_probability

pytestmark = pytest.mark.skipif(ORTHANC is None, reason=SKIP_REASON)
FILMS = ("cr_mono2_8bit_jpeg_baseline.dcm", "cr_mono1_8bit_jpeg_baseline.dcm", "cr_mono1_15bit_j2k_lossy.dcm",
         "dx_mono2_8bit_implicit_vr_uncompressed.dcm")
SR, PDF, SC = "1.2.840.10008.5.1.4.1.1.88.33", "1.2.840.10008.5.1.4.1.1.104.1", "1.2.840.10008.5.1.4.1.1.7"


@pytest.fixture(scope="module")
def pacs(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("orthanc")
    ports = {"app": free_port(), "refuser": free_port(), "listen": free_port()}
    server = start_orthanc(folder, {name: ["PNEUMO", "127.0.0.1", port] for name, port in ports.items()})
    try:
        yield server, ports
    finally:
        server.stop()


def node(server: Orthanc) -> DicomNode:
    return DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port)


def test_films_go_in_come_out_to_the_listener_and_results_go_back(pacs, tiny_predictor, tmp_path: Path) -> None:
    server, ports = pacs
    films = [DICOM_DIR / name for name in FILMS]
    stored = send_files(node(server), films, calling_ae="PNEUMO")
    assert stored.ok and stored.sent == films

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    arrived: queue.Queue[Path] = queue.Queue()
    listener = Listener(ae_title="PNEUMO", port=ports["app"], inbox=inbox, allowed_callers=[ORTHANC_AE],
                        on_received=arrived.put)
    listener.start()
    try:
        uid = str(pydicom.dcmread(films[0], stop_before_pixels=True).SOPInstanceUID)
        (orthanc_id,) = server.rest("POST", "/tools/lookup", uid)
        server.rest("POST", "/modalities/app/store", {"Resources": [orthanc_id["ID"]], "Synchronous": True})
        received = arrived.get(timeout=30)
    finally:
        listener.stop()
    assert received == inbox / received_file_name(pydicom.dcmread(films[0], stop_before_pixels=True))
    assert pydicom.dcmread(received).SOPInstanceUID == uid

    image = load_image(received)
    prediction = tiny_predictor.predict(model_input_for(image, tiny_predictor.size), heatmap=True)
    out = tmp_path / "results"
    out.mkdir()
    results = export_dicom_results(out, image, prediction, tiny_predictor.card)
    sent_back = send_files(node(server), results.paths, calling_ae="PNEUMO")
    assert sent_back.ok and len(sent_back.sent) == 3

    film = pydicom.dcmread(films[0], stop_before_pixels=True)
    in_pacs = server.instances_of_study(str(film.StudyInstanceUID))
    by_class = {tags["SOPClassUID"]: tags for tags in in_pacs}
    assert set(by_class) == {str(film.SOPClassUID), SR, PDF, SC}
    for sop_class in (SR, PDF, SC):
        tags = by_class[sop_class]
        assert tags["PatientID"] == film.PatientID and tags["SeriesInstanceUID"] != film.SeriesInstanceUID
    series = {tags["SeriesInstanceUID"] for tags in in_pacs}
    assert len(series) == 4
    sr = by_class[SR]
    assert sr["CurrentRequestedProcedureEvidenceSequence"][0]["ReferencedSeriesSequence"][0][
        "ReferencedSOPSequence"][0]["ReferencedSOPInstanceUID"] == uid
    assert json_probability(sr) == pytest.approx(prediction.probability, abs=1e-6)
    assert json_fingerprints(sr) == {tiny_predictor.card.fingerprint}
    assert by_class[SC]["SourceImageSequence"][0]["ReferencedSOPInstanceUID"] == uid
    assert by_class[PDF]["SourceInstanceSequence"][0]["ReferencedSOPInstanceUID"] == uid
    pdf = server.rest("GET", f"/instances/{by_class[PDF]['_id']}/pdf", raw=True)
    wrapped = pydicom.dcmread(next(p for p in results.paths if p.name.endswith("_report_pdf.dcm")))
    assert pdf == bytes(wrapped.EncapsulatedDocument)[: wrapped.EncapsulatedDocumentLength]


def test_a_caller_not_configured_is_refused_and_nothing_arrives(pacs, tmp_path: Path) -> None:
    server, ports = pacs
    send_files(node(server), [DICOM_DIR / FILMS[0]], calling_ae="PNEUMO")
    uid = str(pydicom.dcmread(DICOM_DIR / FILMS[0], stop_before_pixels=True).SOPInstanceUID)
    (orthanc_id,) = server.rest("POST", "/tools/lookup", uid)
    arrived: list[Path] = []
    listener = Listener(ae_title="PNEUMO", port=ports["refuser"], inbox=tmp_path, allowed_callers=["SOMEONE"],
                        on_received=arrived.append)
    listener.start()
    try:
        with pytest.raises(urllib.error.HTTPError):
            server.rest("POST", "/modalities/refuser/store", {"Resources": [orthanc_id["ID"]], "Synchronous": True})
    finally:
        listener.stop()
    assert arrived == [] and list(tmp_path.iterdir()) == []
