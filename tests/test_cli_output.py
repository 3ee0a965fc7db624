"""What the command line prints: every warning in the records, the window's probability wording in the table,
and where a report was written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pneumo_desktop import paths
from pneumo_desktop.core.result_text import percent
from pneumo_desktop.launcher import main
from tests.core import dicom_factory

AGE_WARNING = "outside the model's intended 1-5 years"


@pytest.fixture(autouse=True)
def _tiny_model(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.MODELS_ENV, str(tiny_model_dir))


@pytest.fixture()
def adult(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    dicom_factory.write(dicom_factory.make_dataset(dicom_factory.gradient(128, 112)), folder / "child.dcm")
    # No Patient's Age: the age comes from the birth and study dates (64 years).
    ds = dicom_factory.make_dataset(dicom_factory.gradient(128, 112), PatientBirthDate="19400305",
                                    StudyDate="20040826")
    del ds.PatientAge
    return dicom_factory.write(ds, folder / "adult.dcm")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_records_carry_the_population_warning(adult: Path, capsys, fmt: str) -> None:
    assert main(["predict", str(adult.parent), "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "jsonl":
        rows = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    else:
        import io

        from pneumo_desktop.core.records import read_csv

        rows = {Path(r["path"]).name: r for r in read_csv(io.StringIO(out))}
    assert rows["child.dcm"]["warnings"] == []
    (warning,) = rows["adult.dcm"]["warnings"]
    assert AGE_WARNING in warning and "64.5 years" in warning


def test_the_table_uses_the_window_wording_and_lists_warnings(adult: Path, capsys) -> None:
    assert main(["predict", str(adult), "--format", "jsonl"]) == 0
    probability = json.loads(capsys.readouterr().out)["probability"]
    assert main(["predict", str(adult)]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert percent(probability) in row and f"{probability:.3f}" not in row
    assert AGE_WARNING in row


def test_report_prints_the_full_path_it_wrote(adult: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    out_dir = tmp_path / "reports"
    out_dir.mkdir()
    monkeypatch.chdir(out_dir)
    assert main(["report", str(adult), "-o", "r.pdf"]) == 0
    err = capsys.readouterr().err
    assert f"wrote {out_dir / 'r.pdf'}" in err
    assert os.path.isabs(err.split("wrote ", 1)[1].split()[0])


def test_a_dicom_without_any_age_gets_the_population_caution(tmp_path: Path, capsys, monkeypatch) -> None:
    """Issue 24 B7: no Patient's Age and no birth date → "Age unknown" in JSONL, CSV and the PDF report."""
    folder = tmp_path / "in"
    folder.mkdir()
    ds = dicom_factory.make_dataset(dicom_factory.gradient(128, 112))
    for keyword in ("PatientAge", "PatientBirthDate"):
        if keyword in ds:
            delattr(ds, keyword)
    film = dicom_factory.write(ds, folder / "no_age.dcm")
    for fmt in ("jsonl", "csv"):
        assert main(["predict", str(film), "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert "Age unknown (the DICOM has no Patient's Age or birth date): the model was made for ages 1-5" in out
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(film), "-o", "r.pdf"]) == 0
    from pypdf import PdfReader

    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(tmp_path / "r.pdf").pages)
    assert "Age unknown" in text and "made for ages 1-5 years" in text
