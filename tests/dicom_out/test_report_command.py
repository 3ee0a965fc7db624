"""``pneumo-desktop report FILE --dicom OUT_DIR``: written with the PDF, refused with the reason, nothing
half-written, never over an existing file or into an input folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest

from pneumo_desktop import paths
from pneumo_desktop.launcher import main
from tests.conftest import FILMS_256
from tests.dicom_out.conftest import Scored

ENCAPSULATED_PDF_STORAGE = "1.2.840.10008.5.1.4.1.1.104.1"


@pytest.fixture
def models_env(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.MODELS_ENV, str(tiny_model_dir))


@pytest.fixture
def film(patient_film: Scored, tmp_path: Path) -> Path:
    copy = tmp_path / "in" / patient_film.path.name
    copy.parent.mkdir()
    shutil.copy(patient_film.path, copy)
    return copy


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*"))


def test_report_with_dicom_writes_the_pdf_and_three_objects(models_env, film: Path, tmp_path: Path,
                                                            capsys) -> None:
    out, pdf = tmp_path / "pacs", tmp_path / "report.pdf"
    out.mkdir()
    assert main(["report", str(film), "-o", str(pdf), "--dicom", str(out)]) == 0
    written = listing(out)
    assert written == ["Yamada_chest_pneumonia_heatmap_sc.dcm", "Yamada_chest_pneumonia_report_pdf.dcm",
                       "Yamada_chest_pneumonia_sr.dcm"]
    wrapped = pydicom.dcmread(out / "Yamada_chest_pneumonia_report_pdf.dcm")
    assert wrapped.SOPClassUID == ENCAPSULATED_PDF_STORAGE
    assert bytes(wrapped.EncapsulatedDocument)[: wrapped.EncapsulatedDocumentLength] == pdf.read_bytes()
    err = capsys.readouterr().err
    assert all(name in err for name in written)
    # A second run refuses before scoring and leaves every file as it was.
    before = {name: (out / name).read_bytes() for name in written}
    assert main(["report", str(film), "-o", str(tmp_path / "other.pdf"), "--dicom", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err
    assert not (tmp_path / "other.pdf").exists()
    assert {name: (out / name).read_bytes() for name in written} == before
    assert main(["report", str(film), "-o", str(pdf), "--dicom", str(out), "--force"]) == 0
    assert all((out / name).read_bytes() != before[name] for name in written)  # new instance UIDs each time


def test_hide_phi_with_dicom_is_refused_and_writes_nothing(models_env, film: Path, tmp_path: Path,
                                                           capsys) -> None:
    out = tmp_path / "pacs"
    out.mkdir()
    assert main(["report", str(film), "-o", str(tmp_path / "r.pdf"), "--hide-phi", "--dicom", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--hide-phi" in err and "patient's identity" in err
    assert listing(out) == [] and not (tmp_path / "r.pdf").exists()


def test_raster_input_with_dicom_is_refused_before_scoring(models_env, tmp_path: Path, capsys) -> None:
    (tmp_path / "in").mkdir()
    jpeg = tmp_path / "in" / "film.jpg"
    shutil.copy(next((FILMS_256 / "NORMAL").glob("*.jpg")), jpeg)
    out = tmp_path / "pacs"
    out.mkdir()
    assert main(["report", str(jpeg), "-o", str(tmp_path / "r.pdf"), "--dicom", str(out)]) == 2
    err = capsys.readouterr().err
    assert "film.jpg is not a DICOM file" in err and "without --dicom" in err
    assert listing(out) == [] and not (tmp_path / "r.pdf").exists()


def test_dicom_folder_rules(models_env, film: Path, tmp_path: Path, capsys) -> None:
    pdf = tmp_path / "r.pdf"
    assert main(["report", str(film), "-o", str(pdf), "--dicom", str(film.parent)]) == 2
    assert "input folder" in capsys.readouterr().err
    assert main(["report", str(film), "-o", str(pdf), "--dicom", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["report", str(film.parent), "-o", str(pdf), "--dicom", str(tmp_path)]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert listing(film.parent) == [film.name] and not pdf.exists()
