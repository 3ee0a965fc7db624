"""The record schema and its one writer: JSON lines and CSV carry the same fields in the same order."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pneumo_desktop.core import records
from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.loader import load_image
from tests.conftest import FILMS_256

EXPECTED_FIELDS = [
    "path", "probability", "label", "threshold", "model", "model_sha256", "file_sha256", "elapsed_ms",
    "warnings", "rejected", "error", "heatmap",
]


@pytest.fixture(scope="module")
def three_records(tiny_predictor, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """A scored image, a gate rejection (too small) and a load failure, all produced for real."""
    folder = tmp_path_factory.mktemp("records")
    scored_path = next((FILMS_256 / "PNEUMONIA").glob("*.jpg"))
    small_path = folder / "small, \"quoted\".png"
    Image.fromarray(np.full((40, 40), 128, np.uint8)).save(small_path)
    scored, small = load_image(scored_path), load_image(small_path)
    broken = folder / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    with pytest.raises(ImageLoadError) as failure:
        load_image(broken)
    return [
        records.record_from(str(scored_path), tiny_predictor.predict(scored, heatmap=False), scored),
        records.record_from(str(small_path), tiny_predictor.predict(small, heatmap=False), small),
        records.record_from(str(broken), None, None, str(failure.value),
                            file_sha256=hashlib.sha256(broken.read_bytes()).hexdigest()),
    ]


def test_fields_are_the_contract() -> None:
    assert list(records.FIELDS) == EXPECTED_FIELDS


def test_scored_record_holds_the_prediction(three_records: list[dict], tiny_predictor) -> None:
    scored = three_records[0]
    assert list(scored) == EXPECTED_FIELDS
    image = load_image(scored["path"])
    again = tiny_predictor.predict(image, heatmap=False)
    assert scored["probability"] == pytest.approx(again.probability, abs=1e-6)
    assert scored["label"] == again.label
    assert scored["threshold"] == tiny_predictor.card.threshold
    assert scored["model"] == tiny_predictor.card.display_name
    assert scored["model_sha256"] == tiny_predictor.card.weights_sha256
    assert scored["file_sha256"] == hashlib.sha256(Path(scored["path"]).read_bytes()).hexdigest()
    assert scored["rejected"] is None and scored["error"] is None and scored["heatmap"] is None
    assert isinstance(scored["warnings"], list)


def test_rejection_and_error_records(three_records: list[dict]) -> None:
    _, rejected, failed = three_records
    assert rejected["probability"] is None and rejected["label"] is None
    assert rejected["rejected"]["code"] == "too_small" and rejected["rejected"]["reason"]
    assert rejected["error"] is None
    assert failed["probability"] is None and failed["model"] is None
    assert "broken.png" in failed["error"]
    assert len(failed["file_sha256"]) == 64


def test_jsonl_and_csv_carry_the_same_keys_and_values(three_records: list[dict]) -> None:
    jsonl, table = io.StringIO(), io.StringIO()
    records.write_jsonl(three_records, jsonl)
    records.write_csv(three_records, table)
    from_json = [json.loads(line) for line in jsonl.getvalue().splitlines()]
    assert [list(r) for r in from_json] == [EXPECTED_FIELDS] * 3
    table.seek(0)
    assert next(csv.reader(io.StringIO(table.getvalue()))) == EXPECTED_FIELDS
    from_csv = records.read_csv(table)
    assert from_csv == from_json == json.loads(json.dumps(three_records))


def test_csv_encodes_lists_and_objects_as_json(three_records: list[dict]) -> None:
    out = io.StringIO()
    records.write_csv(three_records[1:2], out)
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert json.loads(row["rejected"]) == three_records[1]["rejected"]
    assert json.loads(row["warnings"]) == three_records[1]["warnings"]
    assert row["probability"] == "" and row["error"] == ""


def test_table_lists_every_input_with_its_status(three_records: list[dict]) -> None:
    text = records.format_table(three_records)
    lines = text.splitlines()
    assert len(lines) == 4
    assert f"{100 * three_records[0]['probability']:.1f} %" in lines[1]  # as the window writes it
    assert "rejected: too_small" in lines[2]
    assert "error" in lines[3] and "broken.png" in lines[3]


def test_non_utf8_file_names_do_not_break_the_writers(three_records: list[dict]) -> None:
    name = b"/data/\xff\xfepatient.dcm".decode("utf-8", "surrogateescape")
    record = records.record_from(name, None, None, "x: not an image")
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # strict, as stdout is
    records.write_jsonl([record], out)
    records.write_csv([record], out)
    out.flush()
    assert "\ufffd\ufffdpatient.dcm" in record["path"]


def test_triage_order_puts_likely_pneumonia_first_and_failures_last(three_records: list[dict]) -> None:
    low = dict(three_records[0], probability=0.2)
    high = dict(three_records[0], probability=0.9)
    ordered = sorted([three_records[2], low, three_records[1], high], key=records.triage_key)
    assert ordered == [high, low, three_records[1], three_records[2]]


@pytest.mark.parametrize("text", ["=1+1.jpeg", "+cmd", "-2", "@sum", "\tx", "\rx", "'=x", "''+x", "'a", "''x", "ok", ""])
def test_csv_cells_never_start_a_formula_and_read_back_unchanged(text: str) -> None:
    """Issue 13: the window's Export CSV and the CLI share write_csv, so one rule covers both."""
    buffer = io.StringIO()
    records.write_csv([{"path": text, "error": text or None, "warnings": [text]}], buffer)
    row = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))[1]  # newline="": a cell may hold \r
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row
    (back,) = records.read_csv(io.StringIO(buffer.getvalue(), newline=""))
    assert back["path"] == (text or None) and back["error"] == (text or None)


def test_terminal_text_escapes_controls_and_bidi_overrides() -> None:
    assert records.terminal_text("a\nb\r\tc\x1b[2J\x9b\u202e\u2066") == "a\\nb\\r\\tc\\x1b[2J\\x9b\\u202e\\u2066"
    assert records.terminal_text("résumé 肺炎.png") == "résumé 肺炎.png"
