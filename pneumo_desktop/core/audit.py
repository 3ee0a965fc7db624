"""Append-only local audit log of every prediction and every DICOM send (GUI and CLI alike), one JSON object
per line.

It holds no PHI: no patient fields and no file path or name (folders and files are often named after
patients). The file's sha256 identifies the image, and the PDF report prints the same file and model
hashes, so a report can be matched to its audit line.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import threading
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pneumo_desktop import __version__, paths
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.prediction import Prediction

AUDIT_FILENAME = "audit.jsonl"
FIELDS = (
    "time", "app_version", "source", "file_sha256", "model", "model_sha256", "probability", "label",
    "threshold", "gate",
)
# A send line ("event": "dicom_send"): what went where, never to whom. The destination's AE title only (a host
# can name a site), no UIDs (they identify the patient's study in the PACS).
SEND_FIELDS = (
    "time", "app_version", "source", "event", "file_sha256", "model", "model_sha256", "destination_ae", "sent",
    "failed", "outcome",
)
SEND_EVENT = "dicom_send"
COMPARE_EVENT = "compare"  # a film read beside its prior: both hashes, no patient data
# What read_lines gives for a line that is not a whole entry (the line number and its start are kept).
DAMAGED_EVENT = "damaged"
_DAMAGED_TEXT = 120
log = logging.getLogger(__name__)
_lock = threading.Lock()


def audit_path() -> Path:
    return paths.state_dir() / AUDIT_FILENAME


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def entry_for(file_sha256: str, prediction: Prediction, *, source: str) -> dict[str, Any]:
    return {
        "time": _now(),
        "app_version": __version__,
        "source": source,
        "file_sha256": file_sha256,
        "model": prediction.model,
        "model_sha256": prediction.model_sha256,
        "probability": None if prediction.probability is None else round(float(prediction.probability), 6),
        "label": prediction.label,
        "threshold": float(prediction.threshold),
        "gate": prediction.rejected.code if prediction.rejected is not None else None,
    }


def record_prediction(file_sha256: str, prediction: Prediction, *, source: str = "cli") -> bool:
    """Append one line; ``source`` is "cli" or "gui". Returns False (and logs why) when the log cannot
    be written: a full disk must not hide a result the clinician already has on screen."""
    return _append(entry_for(file_sha256, prediction, source=source))


def send_entry(file_sha256: str, model: str, model_sha256: str, *, destination_ae: str, sent: int, failed: int,
               source: str) -> dict[str, Any]:
    outcome = "ok" if sent and not failed else "partial" if sent else "failed"
    return {"time": _now(), "app_version": __version__, "source": source, "event": SEND_EVENT,
            "file_sha256": file_sha256, "model": model, "model_sha256": model_sha256,
            "destination_ae": destination_ae, "sent": int(sent), "failed": int(failed), "outcome": outcome}


def record_send(file_sha256: str, model: str, model_sha256: str, *, destination_ae: str, sent: int, failed: int,
                source: str = "cli") -> bool:
    """Append one "dicom_send" line for the results of the file with ``file_sha256``; False when the log could
    not be written (as ``record_prediction``)."""
    return _append(send_entry(file_sha256, model, model_sha256, destination_ae=destination_ae, sent=sent,
                              failed=failed, source=source))


def record_compare(current_sha256: str, prior_sha256: str, model: str, model_sha256: str, *, label: str,
                   source: str = "cli") -> bool:
    """Append one "compare" line naming both films by their hashes (each film has its own prediction line);
    ``label``: "higher", "lower" or "" (no label). False when the log could not be written."""
    return _append({"time": _now(), "app_version": __version__, "source": source, "event": COMPARE_EVENT,
                    "file_sha256": current_sha256, "prior_sha256": prior_sha256, "model": model,
                    "model_sha256": model_sha256, "label": label or None})


def _append(entry: dict[str, Any]) -> bool:
    line = (json.dumps(entry, ensure_ascii=True) + "\n").encode("ascii")
    try:
        target = audit_path()
        # One os.write on an O_APPEND descriptor: lines from the GUI and a CLI run at the same time
        # never interleave, and existing lines are never rewritten.
        with _lock:
            fd = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
            try:
                _write_whole_line(fd, line)
            finally:
                os.close(fd)
    except OSError as exc:
        log.warning("the audit log could not be written (%s); the result is still valid", exc.strerror or exc)
        return False
    return True


def _write_whole_line(fd: int, line: bytes) -> None:
    """Write ``line`` at the end, whole or not at all; OSError when it could not be.

    A full disk makes os.write write part of a line and return the count (then raise ENOSPC next time):
    the log ended mid-line, and once space was freed the next line was glued to the broken one. So the
    count is checked and a short write is cut off again; and a log that already ends mid-line (a crash, a
    short write that could not be cut off) first gets a newline, so the broken line stays alone and marked
    damaged by ``read_lines`` rather than spoiling the next one."""
    size = os.fstat(fd).st_size
    if size and _last_byte(fd, size) != b"\n":
        line = b"\n" + line
    written = os.write(fd, line)
    if written != len(line):
        end = os.lseek(fd, 0, os.SEEK_END)
        if end == size + written:  # nobody appended after us: take the partial line back
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
        raise OSError(errno.ENOSPC, f"only {written} of {len(line)} bytes could be written: is the disk full?")


def _last_byte(fd: int, size: int) -> bytes:
    os.lseek(fd, size - 1, os.SEEK_SET)  # O_APPEND still sends the write to the end
    return os.read(fd, 1)


class AuditTrail:
    """One audit line per file per trail: a run of ``predict``, or a set opened in the window (where the file on
    screen and the same file's batch row are two scorings of one file, and gave two lines)."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self._written: set[tuple[str, str, str]] = set()
        self.failures = 0  # lines that could not be written: the caller tells the user (exit code, window)

    def record(self, image: LoadedImage, prediction: Prediction) -> bool:
        """False when the line could not be written (the audit module logs why)."""
        key = (str(image.path), image.file_sha256, prediction.model_sha256)
        if self.source is None or key in self._written:
            return True
        self._written.add(key)
        written = record_prediction(image.file_sha256, prediction, source=self.source)
        self.failures += not written
        return written


def read_lines(limit: int | None = 1000) -> list[dict[str, Any]]:
    """The newest ``limit`` entries, oldest first (the GUI's viewer). A line that is not one whole JSON object
    (cut short by a full disk or a crash) is kept as a "damaged" entry with its line number and its first
    characters, so the viewer shows that the trail has a hole instead of hiding it."""
    target = audit_path()
    if not target.exists():
        return []
    kept: deque[tuple[int, str]] = deque(maxlen=limit)
    with open(target, encoding="ascii", errors="replace") as fh:
        for number, raw in enumerate(fh, start=1):
            if raw.strip():
                kept.append((number, raw))
    entries = []
    for number, raw in kept:
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if isinstance(value, dict) and "time" in value:
            entries.append(value)
        else:
            entries.append({"event": DAMAGED_EVENT, "line": number, "text": raw.strip()[:_DAMAGED_TEXT]})
    return entries
