"""What gets no DICOM results, and that a refusal or a failure leaves nothing behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pneumo_desktop.core.loader import load_image
from pneumo_desktop.dicom_out import DicomExportError, dicom_result_paths, export_dicom_results
from pneumo_desktop.dicom_out import export as export_module
from tests.conftest import FILMS_256
from tests.core.dicom_factory import gradient, make_dataset, write
from tests.dicom_out.conftest import Scored


def test_hide_phi_is_refused_with_the_reason(patient_film: Scored, tiny_predictor, tmp_path: Path) -> None:
    with pytest.raises(DicomExportError, match="hide-PHI.*patient's identity"):
        export_dicom_results(tmp_path, patient_film.image, patient_film.prediction, tiny_predictor.card,
                             hide_phi=True)
    assert list(tmp_path.iterdir()) == []


def test_raster_input_is_refused(tiny_predictor, tmp_path: Path) -> None:
    image = load_image(next((FILMS_256 / "NORMAL").glob("*.jpg")))
    prediction = tiny_predictor.predict(image)
    with pytest.raises(DicomExportError, match="not a DICOM file"):
        export_dicom_results(tmp_path, image, prediction, tiny_predictor.card)
    assert list(tmp_path.iterdir()) == []


def test_existing_result_is_never_overwritten_without_asking(patient_film: Scored, tiny_predictor,
                                                             tmp_path: Path) -> None:
    sr_path = dicom_result_paths(patient_film.path, tmp_path)["sr"]
    sr_path.write_bytes(b"mine")
    with pytest.raises(DicomExportError, match="already exists"):
        export_dicom_results(tmp_path, patient_film.image, patient_film.prediction, tiny_predictor.card)
    assert sorted(tmp_path.iterdir()) == [sr_path] and sr_path.read_bytes() == b"mine"
    results = export_dicom_results(tmp_path, patient_film.image, patient_film.prediction, tiny_predictor.card,
                                   overwrite=True)
    assert sr_path in results.paths and sr_path.read_bytes() != b"mine"


def test_never_written_into_the_input_folder(patient_film: Scored, tiny_predictor) -> None:
    for folder in (patient_film.path.parent, patient_film.path.parent / "sub"):
        folder.mkdir(exist_ok=True)
        with pytest.raises(DicomExportError, match="input folder"):
            export_dicom_results(folder, patient_film.image, patient_film.prediction, tiny_predictor.card)
    assert not any(p.name.endswith("_sr.dcm") for p in patient_film.path.parent.rglob("*"))


def test_a_file_changed_since_it_was_scored_is_refused(patient_film: Scored, tiny_predictor,
                                                       tmp_path: Path) -> None:
    copy = tmp_path / "in" / "film.dcm"
    copy.parent.mkdir()
    shutil.copy(patient_film.path, copy)
    image = load_image(copy)
    with copy.open("ab") as fh:
        fh.write(b"\0\0")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DicomExportError, match="changed on disk"):
        export_dicom_results(out, image, patient_film.prediction, tiny_predictor.card)
    assert list(out.iterdir()) == []


def test_a_source_without_a_study_uid_is_refused(tiny_predictor, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    path = write(make_dataset(gradient()), tmp_path / "in" / "no_study.dcm")  # the factory sets no Study UID
    image = load_image(path)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DicomExportError, match="lacks StudyInstanceUID, SeriesInstanceUID"):
        export_dicom_results(out, image, tiny_predictor.predict(image), tiny_predictor.card)
    assert list(out.iterdir()) == []


def test_a_failed_write_removes_what_this_export_already_wrote(patient_film: Scored, tiny_predictor,
                                                               tmp_path: Path, monkeypatch) -> None:
    real = export_module.atomic_write_bytes
    calls = []

    def fail_second(path: Path, data: bytes, *, overwrite: bool = True) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(path, data, overwrite=overwrite)

    monkeypatch.setattr(export_module, "atomic_write_bytes", fail_second)
    with pytest.raises(DicomExportError, match="No space left on device.*none were kept"):
        export_dicom_results(tmp_path, patient_film.image, patient_film.prediction, tiny_predictor.card)
    assert len(calls) == 2 and list(tmp_path.iterdir()) == []


def test_the_checks_the_window_runs_after_every_result_import_nothing_heavy() -> None:
    """The window asks ``refusal`` on the GUI thread after every result: importing highdicom there stalled it
    for 0.4 s on the first result of a session."""
    import subprocess
    import sys

    code = ("import sys\nimport pneumo_desktop.dicom_out as d\nd.refusal, d.check_targets, d.dicom_result_paths\n"
            "heavy = [m for m in ('highdicom', 'pydicom', 'pynetdicom') if m in sys.modules]\n"
            "assert not heavy, heavy\nd.export_dicom_results\nassert 'highdicom' in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
