"""The audit log: one JSON line per prediction, append-only, and nothing that identifies a patient."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pneumo_desktop import __version__
from pneumo_desktop.core import audit
from pneumo_desktop.core.loader import load_image
from tests.conftest import FILMS_256
from tests.core.dicom_factory import make_dataset, write

PATIENT_NAME = "Doe^Jane"
PATIENT_ID = "MRN-99812"


@pytest.fixture()
def patient_file(tmp_path: Path) -> Path:
    """A DICOM whose folder and file name are as identifying as real ones often are."""
    folder = tmp_path / "Doe_Jane_MRN-99812"
    folder.mkdir()
    pixels = np.asarray(Image.open(next((FILMS_256 / "NORMAL").glob("*.jpg"))).convert("L"))
    ds = make_dataset(pixels.astype(np.uint8), PatientName=PATIENT_NAME, PatientID=PATIENT_ID)
    return write(ds, folder / "Doe_Jane_chest.dcm")


def test_each_prediction_appends_one_line_without_phi(patient_file: Path, tiny_predictor) -> None:
    image = load_image(patient_file)
    prediction = tiny_predictor.predict(image, heatmap=False)
    assert audit.record_prediction(image.file_sha256, prediction, source="cli")
    assert audit.record_prediction(image.file_sha256, prediction, source="gui")

    text = audit.audit_path().read_text(encoding="utf-8")
    for secret in ("Doe", "Jane", PATIENT_ID, "chest.dcm", str(patient_file.parent), "20190101", "ACC42"):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 2
    first = lines[0]
    assert list(first) == list(audit.FIELDS)
    assert first["file_sha256"] == image.file_sha256
    assert first["model_sha256"] == tiny_predictor.card.weights_sha256
    assert first["probability"] == pytest.approx(prediction.probability, abs=1e-6)
    assert first["threshold"] == prediction.threshold
    assert first["gate"] is None
    assert first["app_version"] == __version__
    assert [line["source"] for line in lines] == ["cli", "gui"]
    stamp = datetime.fromisoformat(first["time"].replace("Z", "+00:00"))
    assert stamp.utcoffset().total_seconds() == 0


def test_gate_rejections_are_logged_with_their_code(tmp_path: Path, tiny_predictor) -> None:
    path = tmp_path / "tiny.png"
    Image.fromarray(np.full((32, 32), 90, np.uint8)).save(path)
    image = load_image(path)
    prediction = tiny_predictor.predict(image)
    audit.record_prediction(image.file_sha256, prediction)
    (entry,) = audit.read_lines()
    assert entry["gate"] == "too_small"
    assert entry["probability"] is None and entry["label"] is None


def test_the_log_is_append_only_and_read_back_newest_last(patient_file: Path, tiny_predictor) -> None:
    image = load_image(patient_file)
    prediction = tiny_predictor.predict(image, heatmap=False)
    audit.record_prediction("a" * 64, prediction)
    before = audit.audit_path().read_bytes()
    for digest in ("b" * 64, "c" * 64):
        audit.record_prediction(digest, prediction)
    assert audit.audit_path().read_bytes().startswith(before)
    assert [e["file_sha256"][0] for e in audit.read_lines()] == ["a", "b", "c"]
    assert [e["file_sha256"][0] for e in audit.read_lines(limit=2)] == ["b", "c"]


def test_damaged_lines_are_skipped_when_reading(patient_file: Path, tiny_predictor) -> None:
    image = load_image(patient_file)
    audit.record_prediction(image.file_sha256, tiny_predictor.predict(image, heatmap=False))
    with open(audit.audit_path(), "a", encoding="utf-8") as fh:
        fh.write('{"time": "half a line\n[1, 2]\n')
    assert [e["file_sha256"] for e in audit.read_lines()] == [image.file_sha256]


def test_read_lines_without_a_log_is_empty() -> None:
    assert audit.read_lines() == []


def test_an_unwritable_log_is_reported_not_raised(patient_file: Path, tiny_predictor,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    audit.audit_path().mkdir()  # a folder where the file should be: no platform can append to it
    image = load_image(patient_file)
    with caplog.at_level(logging.WARNING, logger="pneumo_desktop"):
        assert audit.record_prediction(image.file_sha256, tiny_predictor.predict(image, heatmap=False)) is False
    assert "audit log could not be written" in caplog.text
    assert "Doe" not in caplog.text
