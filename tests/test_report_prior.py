"""``report CURRENT --prior PRIOR``: one PDF with both films, the pair checked first, both films audited and a
"compare" line naming both hashes (issue 27, CLI part)."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from pypdf import PdfReader

from pneumo_desktop import paths
from pneumo_desktop.core.audit import audit_path
from pneumo_desktop.launcher import main
from tests.conftest import DICOM_DIR, SAMPLES


@pytest.fixture(autouse=True)
def _tiny_model(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.MODELS_ENV, str(tiny_model_dir))


def _dicom(tmp_path: Path, name: str, **tags: str) -> Path:
    ds = pydicom.dcmread(DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm")
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.save_as(tmp_path / name)
    return tmp_path / name


def _text(pdf: Path) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())


def test_a_png_pair_is_compared_with_the_unchecked_patient_note(tmp_path: Path, capsys) -> None:
    current, prior = sorted(SAMPLES.glob("PNEUMONIA/*.jpeg"))[0], sorted(SAMPLES.glob("NORMAL/*.jpeg"))[0]
    out = tmp_path / "compare.pdf"
    assert main(["report", str(current), "--prior", str(prior), "-o", str(out)]) == 0
    text = _text(out)
    assert "Same patient not checked" in text and "Prior" in text and "Current" in text
    assert "not a measurement of change" in text and "does not diagnose" in text
    lines = [json.loads(line) for line in audit_path().read_text().splitlines()]
    scored = [line["file_sha256"] for line in lines if "event" not in line]
    (compare,) = [line for line in lines if line.get("event") == "compare"]
    assert {compare["file_sha256"], compare["prior_sha256"]} == set(scored) and len(scored) == 2


def test_one_patients_dicom_films_are_compared_with_their_dates(tmp_path: Path) -> None:
    prior = _dicom(tmp_path, "prior.dcm", StudyDate="20190101")
    current = _dicom(tmp_path, "current.dcm", StudyDate="20200601")
    out = tmp_path / "compare.pdf"
    assert main(["report", str(current), "--prior", str(prior), "-o", str(out), "--hide-phi"]) == 0
    text = _text(out)
    assert "2019-01-01" in text and "2020-06-01" in text and "Same patient not checked" not in text
    assert "Covid0000" not in text and "prior.dcm" not in text  # hide-PHI: names, IDs and file names masked


@pytest.mark.parametrize(("tags", "reason"), [
    ({"PatientID": "SOMEONE_ELSE", "StudyDate": "20190101"}, "different patients"),
    ({"StudyDate": "20210101"}, "dated later than"),
    ({"PatientSex": "F", "StudyDate": "20190101"}, "disagree on the patient's sex"),
])
def test_a_pair_that_is_not_a_prior_is_refused_with_the_reason(tmp_path: Path, capsys, tags, reason) -> None:
    current = _dicom(tmp_path, "current.dcm", StudyDate="20200601")
    prior = _dicom(tmp_path, "prior.dcm", **tags)
    out = tmp_path / "compare.pdf"
    assert main(["report", str(current), "--prior", str(prior), "-o", str(out)]) == 2
    assert reason in capsys.readouterr().err and not out.exists()
    assert not audit_path().exists() or "compare" not in audit_path().read_text()
