"""One result record per input file, and the ONE writer of them (CLI output and the GUI's Export CSV).

JSON-lines keys and CSV columns are the same, in the same order (FIELDS). In CSV, lists and objects are
JSON-encoded and null is an empty cell.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from typing import IO, Any

from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.core.result_text import percent
from pneumo_desktop.core.score_warnings import phi_safe, score_warnings

FIELDS = (
    "path", "probability", "label", "threshold", "model", "model_sha256", "file_sha256", "elapsed_ms",
    "warnings", "rejected", "error", "heatmap",
)
Record = dict[str, Any]


def display_text(text: str) -> str:
    """File names that are not valid UTF-8 reach Python as lone surrogates, which no UTF-8 writer
    accepts; show those bytes as U+FFFD instead of crashing the whole output."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


# C0 and C1 controls and DEL, plus the bidirectional overrides that reorder what a terminal shows.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def terminal_text(text: str) -> str:
    """``text`` safe to print on a terminal: a file name holding a newline cannot forge a line, and ESC or
    OSC sequences cannot clear the screen or retitle the window. Controls are shown escaped (\\n, \\x1b)."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(), f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                                             else f"\\u{ord(m.group()):04x}"), text)


def csv_safe(text: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe. So does
    one already made of apostrophes before such a start, which keeps the escape reversible (read_csv)."""
    return "'" + text if text.lstrip("'").startswith(_FORMULA_START) else text


def _csv_unescaped(text: str) -> str:
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(_FORMULA_START) else text


def terminal_record(record: Record) -> Record:
    """The record with every text in it passed through terminal_text (for a table or CSV on a terminal)."""
    def safe(value: Any) -> Any:
        if isinstance(value, str):
            return terminal_text(value)
        if isinstance(value, list):
            return [safe(v) for v in value]
        if isinstance(value, dict):
            return {k: safe(v) for k, v in value.items()}
        return value

    return {k: safe(v) for k, v in record.items()}


def record_from(
    path: str,
    prediction: Prediction | None,
    image: LoadedImage | None = None,
    error: str | None = None,
    heatmap_path: str | None = None,
    *,
    file_sha256: str | None = None,
    population: Mapping[str, Any] | None = None,
) -> Record:
    """``file_sha256`` is only needed when there is no image (a file that failed to load). ``population`` is
    the model card's intended population: a DICOM outside it gets a warning like any other (score_warnings)."""
    record: Record = dict.fromkeys(FIELDS)
    record["path"] = display_text(str(path))
    record["warnings"] = [display_text(w) for w in score_warnings(image, prediction, population)]
    record["file_sha256"] = image.file_sha256 if image is not None else file_sha256
    record["error"] = display_text(error) if error is not None else None
    record["heatmap"] = display_text(str(heatmap_path)) if heatmap_path is not None else None
    if prediction is not None:
        record["probability"] = None if prediction.probability is None else float(prediction.probability)
        record["label"] = prediction.label
        record["threshold"] = float(prediction.threshold)
        record["model"] = prediction.model
        record["model_sha256"] = prediction.model_sha256
        record["elapsed_ms"] = round(float(prediction.elapsed_ms), 1)
        record["rejected"] = prediction.rejected.to_dict() if prediction.rejected is not None else None
    return record


def phi_safe_warnings(record: Record) -> list[str]:
    """The record's warnings as hide-PHI may show them (the age warning without the age)."""
    return [phi_safe(str(w)) for w in record.get("warnings") or []]


def status_of(record: Record) -> str:
    """A short word for tables and lists: "ok", "rejected: <code>" or "error"."""
    if record.get("error"):
        return "error"
    rejected = record.get("rejected")
    if rejected:
        return f"rejected: {rejected['code']}"
    return "ok" if record.get("probability") is not None else "no result"


def triage_key(record: Record) -> tuple[int, float]:
    """Sort key for "most likely pneumonia first", then rejections, then errors."""
    if record.get("error"):
        return (2, 0.0)
    probability = record.get("probability")
    if probability is None:
        return (1, 0.0)
    return (0, -float(probability))


def write_jsonl(records: Iterable[Record], stream: IO[str]) -> None:
    for record in records:
        stream.write(json.dumps({k: record.get(k) for k in FIELDS}, ensure_ascii=False) + "\n")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return csv_safe(json.dumps(value, ensure_ascii=False))
    if isinstance(value, str):
        return csv_safe(value)
    return value


def write_csv(records: Iterable[Record], stream: IO[str], *, header: bool = True) -> None:
    """``header=False`` lets a caller stream rows as results arrive after writing the header once."""
    writer = csv.writer(stream, lineterminator="\n")
    # The csv module quotes a cell holding "\n" but not one holding a bare "\r", which spreadsheets take as
    # a line break: a file name with one could forge rows. Such a row is written fully quoted.
    quoting_all = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)
    if header:
        writer.writerow(FIELDS)
    for record in records:
        row = [_csv_cell(record.get(k)) for k in FIELDS]
        has_cr = any(isinstance(cell, str) and "\r" in cell for cell in row)
        (quoting_all if has_cr else writer).writerow(row)


def read_csv(stream: IO[str]) -> list[Record]:
    """The inverse of write_csv (tests, and re-opening an exported list)."""
    out = []
    for row in csv.DictReader(stream):
        record: Record = {}
        for key in FIELDS:
            cell = _csv_unescaped(row.get(key) or "")
            if cell == "":
                record[key] = [] if key == "warnings" else None
            elif key in ("warnings", "rejected"):
                record[key] = json.loads(cell)
            elif key in ("probability", "threshold", "elapsed_ms"):
                record[key] = float(cell)
            else:
                record[key] = cell
        out.append(record)
    return out


def format_table(records: Iterable[Record]) -> str:
    """A plain-text table for people: path, probability (written as the window writes it), label, status, and
    the reason there is no score and every warning, if any."""
    rows = [("path", "probability", "label", "status", "detail")]
    for r in records:
        probability = "" if r.get("probability") is None else percent(float(r["probability"]))
        reason = r.get("error") or (r["rejected"]["reason"] if r.get("rejected") else "")
        parts = [reason] * bool(reason) + [f"warning: {w}" for w in r.get("warnings") or []]
        detail = "; ".join(part.rstrip(".") for part in parts)
        rows.append((str(r.get("path")), probability, r.get("label") or "", status_of(r), detail))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] for row in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"
