"""PDF reports: what the text says, what hide-PHI removes (text, metadata, file name), overwrite rules."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from pneumo_desktop import DISCLAIMER, __version__, paths
from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.records import record_from
from pneumo_desktop.core.result_text import percent
from pneumo_desktop.core.scoring import iter_scored
from pneumo_desktop.launcher import main
from pneumo_desktop.report import (
    BatchEntry,
    ReportError,
    suggested_report_name,
    write_batch_report,
    write_single_report,
)
from tests.conftest import DICOM_DIR, FILMS_256
from tests.core.dicom_factory import make_dataset, write

# Every PHI value the synthetic file carries, as stored and as a report would print it.
PHI = {
    "patient_name": ["山田", "太郎", "Yamada"],
    "patient_id": ["PID-7731"],
    "birth_date": ["20190101", "2019-01-01"],
    "accession_number": ["ACC-5521"],
    "institution": ["Klinikum", "Больница"],
}


def pdf_text(path: Path) -> str:
    reader = PdfReader(path)
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def pdf_metadata(path: Path) -> str:
    return " ".join(str(v) for v in (PdfReader(path).metadata or {}).values())


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def patient_dicom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pixels = np.asarray(Image.open(next((FILMS_256 / "PNEUMONIA").glob("*.jpg"))).convert("L"))
    ds = make_dataset(
        pixels.astype(np.uint8), SpecificCharacterSet="ISO_IR 192", PatientName="Yamada^Taro=山田^太郎",
        PatientID="PID-7731", PatientBirthDate="20190101", AccessionNumber="ACC-5521",
        InstitutionName="Klinikum Süd / Больница",
    )
    return write(ds, tmp_path_factory.mktemp("patient") / "Yamada_Taro_chest.dcm")


@pytest.fixture(scope="module")
def scored(patient_dicom: Path, tiny_predictor):
    image = load_image(patient_dicom)
    return image, tiny_predictor.predict(image, heatmap=True)


def test_single_report_states_result_model_hashes_and_disclaimer(scored, tiny_predictor, tmp_path: Path) -> None:
    image, prediction = scored
    out = write_single_report(tmp_path / "r.pdf", image, prediction, tiny_predictor.card, hide_phi=False)
    text = pdf_text(out)
    assert prediction.label in text
    assert f"{100 * prediction.probability:.1f} %" in text
    assert f"threshold {percent(prediction.threshold)}" in text and f"{prediction.threshold:.3f}" not in text
    assert flat(DISCLAIMER) in text
    assert tiny_predictor.card.display_name in text
    assert tiny_predictor.card.weights_sha256 in text and image.file_sha256 in text
    assert __version__ in text
    assert tiny_predictor.card.intended_population["description"] in text
    # Non-Latin names render (the bundled fallback fonts carry these glyphs) and reach the metadata.
    assert "山田" in text and "Больница" in text and "PID-7731" in text
    assert "山田" in pdf_metadata(out)


def test_hide_phi_removes_patient_fields_from_text_metadata_and_name(scored, tiny_predictor,
                                                                     tmp_path: Path) -> None:
    image, prediction = scored
    name = suggested_report_name(image, hide_phi=True)
    out = write_single_report(tmp_path / name, image, prediction, tiny_predictor.card, hide_phi=True)
    text, meta = pdf_text(out), pdf_metadata(out)
    for values in PHI.values():
        for value in values:
            assert value not in text and value not in meta and value not in name
    assert "Yamada_Taro_chest" not in text and "Yamada" not in name
    assert prediction.label in text and flat(DISCLAIMER) in text
    assert image.file_sha256 in text  # still matchable to the audit log


def test_suggested_name_uses_patient_and_date_only_without_hide_phi(scored) -> None:
    image, _ = scored
    shown = suggested_report_name(image, hide_phi=False)
    assert shown.endswith(".pdf") and "Yamada" in shown and "20240102" in shown
    assert not re.search(r"[\\/:*?\"<>|^=]", shown)
    assert suggested_report_name(image, hide_phi=True) == f"pneumonia_report_{image.file_sha256[:12]}.pdf"


def test_real_dicom_with_hide_phi(tiny_predictor, tmp_path: Path) -> None:
    image = load_image(DICOM_DIR / "cr_mono1_8bit_jpeg_baseline.dcm")  # PatientName "Patient^Anonymous"
    prediction = tiny_predictor.predict(image, heatmap=True)
    shown = write_single_report(tmp_path / "shown.pdf", image, prediction, tiny_predictor.card, hide_phi=False)
    hidden = write_single_report(tmp_path / "hidden.pdf", image, prediction, tiny_predictor.card, hide_phi=True)
    assert "Anonymous" in pdf_text(shown) and "12345678" in pdf_text(shown)
    for path in (hidden,):
        assert "Anonymous" not in pdf_text(path) + pdf_metadata(path)
        assert "12345678" not in pdf_text(path)


def test_rejected_image_shows_the_reason_instead_of_a_probability(tiny_predictor, tmp_path: Path) -> None:
    pixels = np.asarray(Image.open(next((FILMS_256 / "NORMAL").glob("*.jpg"))).convert("L"))
    path = write(make_dataset(pixels.astype(np.uint8), modality="CT"), tmp_path / "ct.dcm")
    image = load_image(path)
    prediction = tiny_predictor.predict(image)
    assert prediction.rejected is not None
    out = write_single_report(tmp_path / "r.pdf", image, prediction, tiny_predictor.card, hide_phi=False)
    text = pdf_text(out)
    assert "Not scored" in text and prediction.rejected.code in text
    assert "Probability of pneumonia:" not in text


def test_existing_report_is_not_overwritten(scored, tiny_predictor, tmp_path: Path) -> None:
    image, prediction = scored
    target = tmp_path / "r.pdf"
    target.write_bytes(b"keep me")
    with pytest.raises(ReportError, match="already exists"):
        write_single_report(target, image, prediction, tiny_predictor.card, hide_phi=False)
    assert target.read_bytes() == b"keep me"
    write_single_report(target, image, prediction, tiny_predictor.card, hide_phi=False, overwrite=True)
    assert target.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]  # no temp file left behind


def _batch_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "batch_in"
    folder.mkdir()
    for i, source in enumerate(sorted((FILMS_256 / "PNEUMONIA").glob("*.jpg"))[:2]
                               + sorted((FILMS_256 / "NORMAL").glob("*.jpg"))[:2]):
        shutil.copy(source, folder / f"img{i}.jpg")
    Image.fromarray(np.full((30, 30), 100, np.uint8)).save(folder / "tiny.png")  # gate: too_small
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\0\0")
    return folder


def test_batch_report_rows_are_sorted_with_failures_last(tiny_predictor, tmp_path: Path) -> None:
    folder = _batch_folder(tmp_path)
    entries = []
    for item in iter_scored(tiny_predictor, sorted(folder.iterdir()), audit_to=None, thumbnails=True):
        record = record_from(str(item.path), item.prediction, item.image, item.error, file_sha256=item.file_sha256)
        entries.append(BatchEntry(record, item.thumbnail))
    out = write_batch_report(tmp_path / "batch.pdf", entries, tiny_predictor.card, hide_phi=False)
    text = pdf_text(out)
    scored = sorted((e.record for e in entries if e.record["probability"] is not None),
                    key=lambda r: -r["probability"])
    order = [Path(r["path"]).name for r in scored] + ["tiny.png", "broken.jpg"]
    positions = [text.index(name) for name in order]
    assert positions == sorted(positions)
    assert "not scored" in text and "failed" in text
    assert flat(DISCLAIMER) in text

    hidden = write_batch_report(tmp_path / "hidden.pdf", entries, tiny_predictor.card, hide_phi=True)
    hidden_text = pdf_text(hidden)
    assert not any(name in hidden_text for name in order)
    assert all(e.record["file_sha256"][:12] in hidden_text for e in entries)


# --- the headless command -------------------------------------------------------------------------------------

@pytest.fixture()
def models_env(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.MODELS_ENV, str(tiny_model_dir))


def test_report_command_single_file(models_env, patient_dicom: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.pdf"
    assert main(["report", str(patient_dicom), "-o", str(out), "--hide-phi"]) == 0
    text = pdf_text(out)
    assert "PID-7731" not in text and "山田" not in text
    assert flat(DISCLAIMER) in text
    capsys.readouterr()
    assert main(["report", str(patient_dicom), "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["report", str(patient_dicom), "-o", str(out), "--force"]) == 0
    assert "PID-7731" in pdf_text(out)


def test_report_command_folder_gives_the_batch_summary(models_env, tmp_path: Path, capsys) -> None:
    folder = _batch_folder(tmp_path)
    out = tmp_path / "summary.pdf"
    assert main(["report", str(folder), "-o", str(out)]) == 1  # broken.jpg failed; the report is written
    text = pdf_text(out)
    assert "6 images" in text and "broken.jpg" in text
    assert "broken.jpg" in capsys.readouterr().err


def test_report_default_location_is_never_the_input_folder(models_env, tmp_path: Path, monkeypatch,
                                                           capsys) -> None:
    folder = _batch_folder(tmp_path)
    listing = sorted(p.name for p in folder.iterdir())
    monkeypatch.chdir(folder)
    assert main(["report", str(folder / "img0.jpg")]) == 2
    assert "-o" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == listing
    # An explicit -o is the user's choice, even into the input folder.
    assert main(["report", str(folder / "img0.jpg"), "-o", str(folder / "chosen.pdf")]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["report", str(folder / "img0.jpg")]) == 0
    (written,) = elsewhere.iterdir()
    assert written.name == "img0_pneumonia_report.pdf"


def test_report_command_with_a_bad_file_or_no_model(models_env, tmp_path: Path, monkeypatch, capsys) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_text("not a dicom")
    assert main(["report", str(bad), "-o", str(tmp_path / "x.pdf")]) == 1
    assert not (tmp_path / "x.pdf").exists()
    monkeypatch.setenv(paths.MODELS_ENV, str(tmp_path / "none"))
    good = tmp_path / "good.jpg"
    shutil.copy(next((FILMS_256 / "NORMAL").glob("*.jpg")), good)
    assert main(["report", str(good), "-o", str(tmp_path / "x.pdf")]) == 3
    assert "Traceback" not in capsys.readouterr().err


def test_a_reader_oriented_result_is_drawn_and_named_as_it_was_scored(scored, tiny_predictor,
                                                                      tmp_path: Path) -> None:
    """Issue 24 A3: Score as Displayed (here the film turned 90° counter-clockwise) → the PDF shows the film as
    it was scored, names the reader's orientation, and a refusal says it concerns that orientation."""
    import time

    from pneumo_desktop.core.prediction import Rejection

    image, _ = scored
    prediction = tiny_predictor.predict(image.sharing_pixels(), heatmap=True, displayed=1)
    out = write_single_report(tmp_path / "turned.pdf", image, prediction, tiny_predictor.card, hide_phi=False)
    text = pdf_text(out)
    assert "Orientation set by the reader (Score as Displayed): rotated 90° counter-clockwise" in text
    rows, cols = image.shape
    assert rows != cols
    drawn = [(im.image.width, im.image.height) for im in PdfReader(out).pages[0].images]
    assert drawn and all(size == (rows, cols) for size in drawn), drawn  # turned: width and height swap

    upright = write_single_report(tmp_path / "stored.pdf", image, tiny_predictor.predict(image, heatmap=True),
                                  tiny_predictor.card, hide_phi=False)
    assert "Orientation set by the reader" not in pdf_text(upright)
    assert all((im.image.width, im.image.height) == (cols, rows) for im in PdfReader(upright).pages[0].images)

    refused = tiny_predictor._rejected(Rejection("out_of_distribution", "the image does not look like a frontal "
                                                 "chest radiograph."), time.perf_counter(), displayed=1)
    text = pdf_text(write_single_report(tmp_path / "refused.pdf", image, refused, tiny_predictor.card,
                                        hide_phi=False))
    assert "In the orientation you set (rotated 90° counter-clockwise), the image does not look like" in text
    assert "Orientation set by the reader" in text


def test_the_intended_use_and_disclaimer_stay_on_one_page(scored, tiny_predictor, tmp_path: Path) -> None:
    """Issue 24 C15: however far down the page the report ends, the notice moves whole to the next page."""
    import dataclasses
    import json

    image, prediction = scored
    disclaimer = flat(DISCLAIMER)
    # The shipped card's population text is several lines long, as the notice is on a real report.
    shipped = json.loads((Path(__file__).resolve().parents[1] / "models" / "model_card.json").read_text())
    card = dataclasses.replace(tiny_predictor.card, intended_population=shipped["intended_population"])
    for count in range(0, 40, 2):  # warnings push the end of the report down by a line or two each
        long = image.sharing_pixels()
        long.warnings += [f"Synthetic warning number {i} that takes a line of the amber band." for i in range(count)]
        out = write_single_report(tmp_path / f"long{count}.pdf", long, prediction, card, hide_phi=False)
        pages = [" ".join(page.extract_text().split()) for page in PdfReader(out).pages]
        assert any(disclaimer in page for page in pages), f"the disclaimer is split across pages ({count})"
