"""Query/retrieve against a real Orthanc: find a study by patient id, accession or name, C-GET its chest
series, score what came back; a study with no chest series says so and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.scoring import model_input_for
from pneumo_desktop.dicom_net.nodes import DicomNetworkError, DicomNode
from pneumo_desktop.dicom_net.query_retrieve import find_studies, retrieve_chest_films
from pneumo_desktop.dicom_net.received_files import received_file_name
from pneumo_desktop.dicom_net.send import send_files
from tests.conftest import DICOM_DIR
from tests.core.dicom_factory import gradient, make_dataset, write
from tests.dicom_net.orthanc import ORTHANC, ORTHANC_AE, SKIP_REASON, start_orthanc

pytestmark = pytest.mark.skipif(ORTHANC is None, reason=SKIP_REASON)
FILMS = ("cr_mono1_15bit_j2k_lossy.dcm", "cr_mono1_8bit_jpeg_baseline.dcm")


@pytest.fixture(scope="module")
def orthanc_with_films(tmp_path_factory: pytest.TempPathFactory):
    # C-GET sends back to the caller's own association, so Orthanc only needs to know the caller's AE title.
    server = start_orthanc(tmp_path_factory.mktemp("orthanc_qr"), {"app": ["PNEUMO", "127.0.0.1", 1]})
    node = DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port)
    try:
        assert send_files(node, [DICOM_DIR / name for name in FILMS], calling_ae="PNEUMO").ok
        yield server, node
    finally:
        server.stop()


def test_find_by_patient_id_accession_or_name(orthanc_with_films) -> None:
    _, node = orthanc_with_films
    film = pydicom.dcmread(DICOM_DIR / FILMS[0], stop_before_pixels=True)
    (match,) = find_studies(node, patient_id=str(film.PatientID), calling_ae="PNEUMO")
    assert match.study_uid == film.StudyInstanceUID and match.patient_id == film.PatientID
    if film.get("AccessionNumber"):
        assert [m.study_uid for m in find_studies(node, accession_number=str(film.AccessionNumber),
                                                  calling_ae="PNEUMO")] == [match.study_uid]
    family = str(film.PatientName).split("^")[0]
    assert match.study_uid in {m.study_uid for m in find_studies(node, patient_name=f"{family}*",
                                                                 calling_ae="PNEUMO")}
    assert find_studies(node, patient_id="NOBODY-HERE", calling_ae="PNEUMO") == []


def test_retrieve_the_chest_series_and_score_it(orthanc_with_films, tiny_predictor, tmp_path: Path) -> None:
    _, node = orthanc_with_films
    film = pydicom.dcmread(DICOM_DIR / FILMS[1], stop_before_pixels=True)
    result = retrieve_chest_films(node, str(film.StudyInstanceUID), tmp_path, calling_ae="PNEUMO")
    (path,) = result.films
    assert result.problem == ""
    assert path == tmp_path / received_file_name(film)
    prediction = tiny_predictor.predict(model_input_for(load_image(path), tiny_predictor.size))
    assert 0.0 <= prediction.probability <= 1.0
    original = tiny_predictor.predict(model_input_for(load_image(DICOM_DIR / FILMS[1]), tiny_predictor.size))
    assert prediction.probability == pytest.approx(original.probability, abs=1e-6)  # the same pixels came back


def test_a_study_without_a_chest_series_is_said_plainly(orthanc_with_films, tmp_path: Path) -> None:
    _, node = orthanc_with_films
    ds = make_dataset(gradient(16, 16), modality="CT", StudyInstanceUID=generate_uid(),
                      SeriesInstanceUID=generate_uid())
    source = write(ds, tmp_path / "ct.dcm")
    assert send_files(node, [source], calling_ae="PNEUMO").ok
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(DicomNetworkError, match="no CR or DX series"):
        retrieve_chest_films(node, str(ds.StudyInstanceUID), dest, calling_ae="PNEUMO")
    assert list(dest.iterdir()) == []
