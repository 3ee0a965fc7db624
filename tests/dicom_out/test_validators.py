"""Every object written passes dciodvfy (dicom3tools, David Clunie's IOD validator): no error of its own.
An error the source film already has (an invalid Patient's Age copied with the patient) is the source's."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pneumo_desktop.dicom_out import export_dicom_results
from tests.conftest import DICOM_DIR
from tests.dicom_out.conftest import Scored, score

DCIODVFY = shutil.which("dciodvfy")
needs_dciodvfy = pytest.mark.skipif(
    DCIODVFY is None,
    reason="DICOM RESULTS ARE NOT VALIDATED: dciodvfy is missing (install it: apt-get install -y dicom3tools)",
)
# The real films that decode (the README of the fixtures says which do not).
REAL_FILMS = ("cr_mono2_8bit_jpeg_baseline.dcm", "cr_mono1_10bit_no_file_meta.dcm",
              "cr_mono1_8bit_jpeg_baseline.dcm", "cr_mono1_15bit_j2k_lossy.dcm",
              "dx_mono2_8bit_implicit_vr_uncompressed.dcm")


def errors(path: Path) -> set[str]:
    assert DCIODVFY is not None
    done = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, errors="replace", timeout=120)
    return {line.strip() for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")}


def assert_valid(scored: Scored, out: Path, predictor) -> None:
    results = export_dicom_results(out, scored.image, scored.prediction, predictor.card)
    assert len(results.paths) == 3
    inherited = errors(scored.path)
    for path in results.paths:
        own = errors(path) - inherited
        assert not own, f"{path.name}: {sorted(own)}"


@needs_dciodvfy
def test_objects_from_a_complete_synthetic_film_have_no_error(patient_film: Scored, tiny_predictor,
                                                              tmp_path: Path) -> None:
    assert errors(patient_film.path) == set()
    assert_valid(patient_film, tmp_path, tiny_predictor)


@needs_dciodvfy
def test_objects_from_a_japanese_header_have_no_error(japanese_film: Scored, tiny_predictor,
                                                      tmp_path: Path) -> None:
    assert_valid(japanese_film, tmp_path, tiny_predictor)


@needs_dciodvfy
@pytest.mark.parametrize("name", REAL_FILMS)
def test_objects_from_real_films_have_no_error_of_their_own(name: str, tiny_predictor, tmp_path: Path) -> None:
    assert_valid(score(DICOM_DIR / name, tiny_predictor), tmp_path, tiny_predictor)


@needs_dciodvfy
def test_the_validator_sees_a_broken_object(patient_film: Scored, tiny_predictor, tmp_path: Path) -> None:
    import pydicom

    results = export_dicom_results(tmp_path, patient_film.image, patient_film.prediction, tiny_predictor.card)
    sr = pydicom.dcmread(next(p for p in results.paths if p.name.endswith("_sr.dcm")))
    del sr.CompletionFlag  # type 1 in the SR Document General module
    broken = tmp_path / "broken.dcm"
    sr.save_as(broken)
    assert any("<CompletionFlag>" in line for line in errors(broken))
