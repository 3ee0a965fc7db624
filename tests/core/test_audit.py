"""The audit log: one JSON line per prediction, append-only, and nothing that identifies a patient."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pneumo_desktop import __version__
from pneumo_desktop.core import audit
from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.prediction import Prediction
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


def test_damaged_lines_are_shown_as_damaged_not_skipped(patient_file: Path, tiny_predictor) -> None:
    image = load_image(patient_file)
    audit.record_prediction(image.file_sha256, tiny_predictor.predict(image, heatmap=False))
    with open(audit.audit_path(), "a", encoding="utf-8") as fh:
        fh.write('{"time": "half a line\n[1, 2]\n')
    first, half, listed = audit.read_lines()
    assert first["file_sha256"] == image.file_sha256
    assert half == {"event": audit.DAMAGED_EVENT, "line": 2, "text": '{"time": "half a line'}
    assert listed == {"event": audit.DAMAGED_EVENT, "line": 3, "text": "[1, 2]"}


def _prediction_line(patient_file: Path, tiny_predictor) -> tuple[str, Prediction]:
    image = load_image(patient_file)
    return image.file_sha256, tiny_predictor.predict(image, heatmap=False)


def test_a_short_write_is_taken_back_and_reported(patient_file: Path, tiny_predictor,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """A full disk: os.write writes part of the line and returns the count. Before, the log ended mid-line and
    the next line, once space was freed, was glued to the broken one."""
    digest, prediction = _prediction_line(patient_file, tiny_predictor)
    assert audit.record_prediction(digest, prediction)
    real_write = os.write
    with monkeypatch.context() as full:
        full.setattr(os, "write", lambda fd, data: real_write(fd, data[:37]))
        with caplog.at_level(logging.WARNING, logger="pneumo_desktop"):
            assert audit.record_prediction(digest, prediction) is False
    assert "only 37 of" in caplog.text and "is the disk full?" in caplog.text
    assert audit.audit_path().read_bytes().count(b"\n") == 1 and audit.audit_path().read_bytes().endswith(b"}\n")
    assert audit.record_prediction(digest, prediction)
    assert len(audit.read_lines()) == 2 and all("file_sha256" in e for e in audit.read_lines())


def test_a_log_left_mid_line_gets_the_next_line_on_a_line_of_its_own(patient_file: Path, tiny_predictor) -> None:
    """A half line that could not be taken back (a crash, a truncate refused) stays alone, marked damaged."""
    digest, prediction = _prediction_line(patient_file, tiny_predictor)
    assert audit.record_prediction(digest, prediction)
    with open(audit.audit_path(), "ab") as fh:
        fh.write(b'{"time": "2026-12-03T2')
    assert audit.record_prediction(digest, prediction)
    entries = audit.read_lines()
    assert [e.get("event") for e in entries] == [None, audit.DAMAGED_EVENT, None]
    assert entries[1]["text"] == '{"time": "2026-12-03T2' and entries[2]["file_sha256"] == digest


def test_a_trail_counts_the_lines_it_could_not_write(patient_file: Path, tiny_predictor) -> None:
    image = load_image(patient_file)
    prediction = tiny_predictor.predict(image, heatmap=False)
    audit.audit_path().mkdir()  # nothing can be appended
    trail = audit.AuditTrail("cli")
    assert trail.record(image, prediction) is False
    assert trail.failures == 1


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


_WRITER = """
import sys
from pneumo_desktop.core import audit
for index in range(int(sys.argv[1])):
    audit._append({"time": "t", "source": "cli", "file_sha256": f"{sys.argv[2]}-{index:06d}" + "0" * 200})
"""


def _writer(count: int, tag: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(audit.__file__).parents[2])}
    return subprocess.Popen([sys.executable, "-c", _WRITER, str(count), tag], env=env)


def test_four_processes_share_one_log_with_every_line_whole() -> None:
    writers = [_writer(60, f"w{n}") for n in range(4)]
    assert [w.wait(60) for w in writers] == [0, 0, 0, 0]
    entries = audit.read_lines(None)
    assert len(entries) == 240 and all(e.get("event") != audit.DAMAGED_EVENT for e in entries)
    assert sorted(e["file_sha256"][:2] for e in entries) == sorted([f"w{n}" for n in range(4)] * 60)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="no SIGKILL")
def test_a_writer_killed_mid_run_leaves_only_whole_lines() -> None:
    writer = _writer(10**6, "k")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not audit.audit_path().exists() or
                                           audit.audit_path().stat().st_size < 200_000):
        time.sleep(0.02)
    writer.send_signal(signal.SIGKILL)
    writer.wait(10)
    entries = audit.read_lines(None)
    assert len(entries) > 100 and all(e.get("event") != audit.DAMAGED_EVENT for e in entries)
    assert audit.audit_path().read_bytes().endswith(b"\n")
