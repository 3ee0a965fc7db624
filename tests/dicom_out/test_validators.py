"""Every object written passes the independent validators a PACS team would run:

- dciodvfy (dicom3tools, David Clunie's IOD validator): no error at all on the SR, PDF and capture made from
  every fixture film, including the source's own faults (an invalid Patient's Age is not copied);
- PixelMed's DicomSRValidator with -checktemplateid: the SR is a TID 1500 Measurement Report with no error;
- dcmqi's tid1500reader (what 3D Slicer's quantitative reporting uses) reads the probability back;
- DCMTK's dsrdump reads the document and shows the TID 1500 tree.
Each test skips, saying which tool to install, when its validator is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from pneumo_desktop.dicom_out import export_dicom_results
from tests.conftest import DICOM_DIR
from tests.core.dicom_factory import gradient
from tests.dicom_out.conftest import Scored, score
from tests.dicom_out.sr_content import dataset_values

DCIODVFY = shutil.which("dciodvfy")
DSRDUMP = shutil.which("dsrdump")
JAVA = shutil.which("java")
PIXELMED_JAR = Path("/usr/share/java/pixelmed.jar")
# pip puts dcmqi's tools beside the interpreter, which is not always on PATH (a venv run without activating it).
TID1500READER = shutil.which("tid1500reader", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                                     os.environ.get("PATH", "")]))
needs_dciodvfy = pytest.mark.skipif(
    DCIODVFY is None,
    reason="DICOM RESULTS ARE NOT VALIDATED: dciodvfy is missing (install it: apt-get install -y dicom3tools)",
)
needs_pixelmed = pytest.mark.skipif(
    JAVA is None or not PIXELMED_JAR.is_file(),
    reason="THE SR TEMPLATE IS NOT VALIDATED: PixelMed's DicomSRValidator is missing "
           "(install it: apt-get install -y pixelmed-apps)",
)
needs_dcmqi = pytest.mark.skipif(
    TID1500READER is None,
    reason="THE SR IS NOT READ BACK BY dcmqi: tid1500reader is missing (install it: pip install dcmqi)",
)
needs_dsrdump = pytest.mark.skipif(
    DSRDUMP is None, reason="THE SR IS NOT READ BY DCMTK: dsrdump is missing (install it: apt-get install -y dcmtk)",
)
# Every fixture film that decodes (the README of the fixtures says which do not).
REAL_FILMS = ("cr_mono2_8bit_jpeg_baseline.dcm", "cr_mono1_10bit_no_file_meta.dcm",
              "cr_mono1_8bit_jpeg_baseline.dcm", "cr_mono1_15bit_j2k_lossy.dcm",
              "cr_mono1_15bit_jpegls_near_lossless.dcm", "cr_mono1_tag_on_mono2_pixels_jpeg_baseline.dcm",
              "dx_mono2_8bit_implicit_vr_uncompressed.dcm")
# JDK 17 caps XPath expressions far below what PixelMed's compiled template rules need.
PIXELMED = ["-Djdk.xml.xpathExprOpLimit=0", "-Djdk.xml.xpathExprGrpLimit=0", "-Djdk.xml.xpathTotalOpLimit=0",
            "-cp", str(PIXELMED_JAR), "com.pixelmed.validate.DicomSRValidator", "-checktemplateid"]


def errors(path: Path) -> set[str]:
    assert DCIODVFY is not None
    done = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, errors="replace", timeout=120)
    return {line.strip() for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")}


def written(scored: Scored, out: Path, predictor) -> list[Path]:
    results = export_dicom_results(out, scored.image, scored.prediction, predictor.card)
    assert len(results.paths) == 3
    return results.paths


def sr_path(scored: Scored, out: Path, predictor) -> Path:
    results = export_dicom_results(out, scored.image, scored.prediction, predictor.card)
    return next(p for p in results.paths if p.name.endswith("_sr.dcm"))


def assert_valid(scored: Scored, out: Path, predictor) -> None:
    for path in written(scored, out, predictor):
        assert errors(path) == set(), path.name


def film_with_pixels(header_of: Path, folder: Path, **changes: object) -> Path:
    """A real film's header (every attribute, with ``changes``) over small synthetic pixels: a fixture's faults
    tested on a film that decodes fast, or at all."""
    ds = pydicom.dcmread(header_of, force=True)
    pixels = gradient(128, 112, high=255)
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation, ds.SamplesPerPixel = 8, 8, 7, 0, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    for keyword in ("WindowCenter", "WindowWidth", "PresentationLUTShape", "RescaleIntercept", "RescaleSlope"):
        ds.pop(keyword, None)
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.PixelData = pixels.astype("uint8").tobytes()
    ds["PixelData"].VR = "OB"
    path = folder / header_of.name
    ds.save_as(path, enforce_file_format=True)
    return path


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
def test_objects_from_real_films_have_no_error(name: str, tiny_predictor, tmp_path: Path) -> None:
    """No error at all, not even one the source film has: our objects copy only valid values."""
    assert_valid(score(DICOM_DIR / name, tiny_predictor), tmp_path, tiny_predictor)


@needs_dciodvfy
def test_patient_age_81_is_not_copied_and_the_objects_are_valid(tiny_predictor, tmp_path: Path, caplog) -> None:
    """The NIH film's Patient's Age is "81" (AS needs "081Y"): dciodvfy faults the film, not our objects."""
    source = DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm"
    assert pydicom.dcmread(source, stop_before_pixels=True).PatientAge == "81"
    assert any("Patient's Age" in line for line in errors(source))
    caplog.set_level("INFO", logger="pneumo_desktop.dicom_out.source_study")
    paths = written(score(source, tiny_predictor), tmp_path, tiny_predictor)
    for path in paths:
        assert "PatientAge" not in pydicom.dcmread(path, stop_before_pixels=True), path.name
        assert errors(path) == set(), path.name
    (line,) = [r.getMessage() for r in caplog.records if "not copied" in r.getMessage()]
    assert "PatientAge" in line and "81" not in line  # which attribute, never its value


@needs_dciodvfy
@pytest.mark.filterwarnings("ignore:The value length:UserWarning")  # the test reads the faulty header itself
def test_an_over_long_accession_number_and_a_hashed_birth_date_are_left_empty(tiny_predictor,
                                                                               tmp_path: Path) -> None:
    """The Canon DX's header (its J2K stream does not decode): a 56-character SH and a DA that is a hash. Both
    are type 2, so our objects keep the attributes, empty."""
    (tmp_path / "film").mkdir()
    source = film_with_pixels(DICOM_DIR / "dx_mono1_12bit_j2k_lossless_bad_marker.dcm", tmp_path / "film")
    header = pydicom.dcmread(source, stop_before_pixels=True)
    assert len(header.AccessionNumber) == 56 and not header.PatientBirthDate.isdigit()
    out = tmp_path / "out"
    out.mkdir()
    for path in written(score(source, tiny_predictor), out, tiny_predictor):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        assert ds.AccessionNumber in ("", None) and ds.PatientBirthDate in ("", None), path.name
        assert ds.PatientID == header.PatientID  # the valid values are still copied
        assert errors(path) == set(), path.name


@needs_dciodvfy
def test_the_validator_sees_a_broken_object(patient_film: Scored, tiny_predictor, tmp_path: Path) -> None:
    sr = pydicom.dcmread(sr_path(patient_film, tmp_path, tiny_predictor))
    del sr.CompletionFlag  # type 1 in the SR Document General module
    broken = tmp_path / "broken.dcm"
    sr.save_as(broken)
    assert any("<CompletionFlag>" in line for line in errors(broken))


def pixelmed(path: Path) -> str:
    assert JAVA is not None
    done = subprocess.run([JAVA, *PIXELMED, str(path)], capture_output=True, text=True, errors="replace",
                          timeout=300)
    return done.stdout + done.stderr


@needs_pixelmed
@pytest.mark.parametrize("scored_film", ["patient_film", "unscored"])
def test_pixelmed_finds_a_tid_1500_report_without_error(scored_film: str, patient_film: Scored, tiny_predictor,
                                                         tmp_path: Path) -> None:
    if scored_film == "unscored":
        from pneumo_desktop.core.prediction import Prediction, Rejection

        patient_film = Scored(patient_film.path, patient_film.image,
                              Prediction(None, None, 0.5, "tiny 0.0.0", tiny_predictor.card.fingerprint, 1.0,
                                         rejected=Rejection("not_chest", "This does not look like a chest X-ray.")),
                              patient_film.source)
        results = export_dicom_results(tmp_path, patient_film.image, patient_film.prediction, tiny_predictor.card)
        path = next(p for p in results.paths if p.name.endswith("_sr.dcm"))
    else:
        path = sr_path(patient_film, tmp_path, tiny_predictor)
    report = pixelmed(path)
    assert "Found Root Template TID_1500 (MeasurementReport)" in report, report
    assert "Root Template Validation Complete" in report, report
    problems = [line for line in report.splitlines() if line.startswith("Error") or "not in template" in line]
    assert problems == [], report


@needs_pixelmed
def test_pixelmed_sees_a_broken_template(patient_film: Scored, tiny_predictor, tmp_path: Path) -> None:
    sr = pydicom.dcmread(sr_path(patient_film, tmp_path, tiny_predictor))
    root = sr.ContentSequence
    procedure = next(item for item in root if item.ConceptNameCodeSequence[0].CodeValue == "121058")
    procedure.ConceptCodeSequence[0].CodeValue = "399208008"  # a chest X-ray code not in CID 100
    broken = tmp_path / "broken.dcm"
    sr.save_as(broken)
    assert "not found in context group 100" in pixelmed(broken)


@needs_dcmqi
def test_dcmqi_reads_the_probability_and_the_model_back(patient_film: Scored, tiny_predictor,
                                                        tmp_path: Path) -> None:
    assert TID1500READER is not None
    path = sr_path(patient_film, tmp_path, tiny_predictor)
    out = tmp_path / "measurements.json"
    done = subprocess.run([TID1500READER, "--inputDICOM", str(path), "--outputMetadata", str(out)],
                          capture_output=True, text=True, errors="replace", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    metadata = json.loads(out.read_text(encoding="utf-8"))
    assert metadata["imageLibrary"] == [str(patient_film.source.SOPInstanceUID)]
    (group,) = metadata["Measurements"]
    values = {item["quantity"]["CodeMeaning"]: item for item in group["measurementItems"]}
    probability = values["Probability of pneumonia"]
    assert float(probability["value"]) == pytest.approx(patient_film.prediction.probability, abs=1e-9)
    algorithm = probability["measurementAlgorithmIdentification"]
    assert algorithm["AlgorithmName"] == tiny_predictor.card.name
    assert any(tiny_predictor.card.fingerprint in p for p in algorithm["AlgorithmParameters"])
    assert float(values["Decision threshold"]["value"]) == pytest.approx(patient_film.prediction.threshold)
    assert metadata["VerificationFlag"] == "UNVERIFIED"


@needs_dsrdump
def test_dcmtk_reads_the_measurement_report(patient_film: Scored, tiny_predictor, tmp_path: Path) -> None:
    assert DSRDUMP is not None
    path = sr_path(patient_film, tmp_path, tiny_predictor)
    done = subprocess.run([DSRDUMP, "+Pc", "+Pl", str(path)], capture_output=True, text=True,
                          errors="replace", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    assert "Preliminary Flag    : PRELIMINARY" in text and "Verification Flag   : UNVERIFIED" in text
    assert 'CONTAINER:(126000,DCM,"Imaging Measurement Report")' in text
    assert '"Probability of pneumonia")="' in text and '"Intended use")="Assistive, not diagnostic.' in text
    values = dataset_values(pydicom.dcmread(path))
    assert f'{values["Probability of pneumonia"][0]:.6f}'[:6] in text


@needs_pixelmed
@needs_dcmqi
@pytest.mark.parametrize("name", REAL_FILMS)
def test_the_sr_of_every_fixture_film_passes_pixelmed_and_dcmqi_reads_it(name: str, tiny_predictor,
                                                                          tmp_path: Path) -> None:
    assert TID1500READER is not None
    scored = score(DICOM_DIR / name, tiny_predictor)
    path = sr_path(scored, tmp_path, tiny_predictor)
    report = pixelmed(path)
    assert "Found Root Template TID_1500 (MeasurementReport)" in report, report
    assert [line for line in report.splitlines() if line.startswith("Error") or "not in template" in line] == []
    out = tmp_path / "measurements.json"
    subprocess.run([TID1500READER, "--inputDICOM", str(path), "--outputMetadata", str(out)], capture_output=True,
                   timeout=120, check=True)
    items = json.loads(out.read_text(encoding="utf-8"))["Measurements"][0]["measurementItems"]
    values = {item["quantity"]["CodeMeaning"]: float(item["value"]) for item in items}
    assert values["Probability of pneumonia"] == pytest.approx(scored.prediction.probability, abs=1e-9)
