"""Issue 26, items 12-14 through the commands: a full disk under the audit log, a link to ``/`` and an unreadable
folder in an opened tree. (The walk's own rules are tested in tests/core/test_collect.py, the audit writer's in
tests/core/test_audit.py.)"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pneumo_desktop import launcher
from pneumo_desktop.cli import EXIT_AUDIT, EXIT_OK, EXIT_SOME_FAILED
from pneumo_desktop.core import audit
from tests.conftest import SAMPLES

SAMPLE_FILES = sorted(SAMPLES.glob("*/*.jpeg"))[:3]


@pytest.fixture(autouse=True)
def _tiny_model(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))


@pytest.fixture()
def films(tmp_path: Path) -> Path:
    root = tmp_path / "films"
    (root / "sub").mkdir(parents=True)
    for index, source in enumerate(SAMPLE_FILES):
        shutil.copy(source, (root if index else root / "sub") / f"film{index}.jpeg")
    return root


def _predict(capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict], str]:
    code = launcher.main(["predict", *args, "--format", "jsonl"])
    out, err = capfd.readouterr()
    assert "Traceback" not in err, err
    return code, [json.loads(line) for line in out.splitlines()], err


def _disk_full_after(allowed: int) -> Callable[[int, bytes], int]:
    """An os.write that, for audit lines only, writes ``allowed`` whole lines, then half a line (as a full
    disk does: a short count), then raises ENOSPC."""
    real_write = os.write
    state = {"lines": 0}

    def write(fd: int, data: bytes) -> int:  # type: ignore[override]
        if b'"time"' not in bytes(data[:40]):
            return real_write(fd, data)
        state["lines"] += 1
        if state["lines"] <= allowed:
            return real_write(fd, data)
        if state["lines"] == allowed + 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    return write


# --- 12. the audit log on a full disk -----------------------------------------------------------------------


def test_predict_on_a_full_disk_exits_5_and_leaves_no_half_line(
        films: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as full:
        full.setattr(os, "write", _disk_full_after(1))
        code, records, err = _predict(capfd, str(films), "--batch-size", "1")
    assert code == EXIT_AUDIT
    assert len(records) == 3 and all(r["probability"] is not None for r in records)  # the results still come
    assert ("the audit log could not be written for 2 results (is the disk full?): the results above are valid, "
            "but the audit trail misses them") in err
    raw = audit.audit_path().read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1  # the half line was taken back
    entries = audit.read_lines()
    assert [e["file_sha256"] for e in entries] == [records[0]["file_sha256"]]
    # Space is freed: the next run's lines are whole and nothing is glued to anything.
    code, records, _ = _predict(capfd, str(films))
    assert code == EXIT_OK
    assert all(e.get("event") != audit.DAMAGED_EVENT for e in audit.read_lines())
    assert len(audit.read_lines()) == 4


def test_report_on_a_full_disk_writes_the_pdf_and_exits_5(
        tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as full:
        full.setattr(os, "write", _disk_full_after(0))
        code = launcher.main(["report", str(SAMPLE_FILES[0]), "-o", str(tmp_path / "r.pdf")])
    _, err = capfd.readouterr()
    assert code == EXIT_AUDIT and (tmp_path / "r.pdf").stat().st_size > 0
    assert "the audit log could not be written for 1 result" in err and "Traceback" not in err


# --- 13. a link to / in an opened folder ---------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_a_link_to_the_root_is_named_and_not_walked(films: Path, capfd: pytest.CaptureFixture[str]) -> None:
    os.symlink("/", films / "sub" / "everything")
    os.symlink(films, films / "sub" / "loop")
    started = time.perf_counter()
    code, records, err = _predict(capfd, str(films))
    elapsed = time.perf_counter() - started
    assert code == EXIT_OK and len(records) == 3
    assert all(Path(r["path"]).is_relative_to(films) for r in records)
    assert "everything: not followed: a link that leads out of the opened folder" in err
    assert "loop: not followed: a link to a folder already walked" in err
    assert elapsed < 30  # before: 5,407 files from elsewhere, killed at 30 s


# --- 14. an unreadable folder ---------------------------------------------------------------------------------


def test_an_unreadable_folder_is_named_and_predict_exits_1(
        films: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    blocked, real_scandir = films / "sub", os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == blocked:  # as root every folder is readable: the refusal is simulated
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, records, err = _predict(capfd, str(films))
    assert code == EXIT_SOME_FAILED
    assert len(records) == 2 and all(r["error"] is None for r in records)
    assert "sub: could not be read (permission denied): films in it, if any, were not reached" in err
    assert "1 folder or file could not be read; films in them were not scored" in err
    assert "not images" not in err


def test_a_folder_that_cannot_be_read_at_all_exits_1_not_2(
        films: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == films:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, records, err = _predict(capfd, str(films))
    assert code == EXIT_SOME_FAILED and records == []
    assert "films: could not be read (permission denied)" in err
