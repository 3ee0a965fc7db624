"""A crash mid-write leaves no half file and no temp file: core/atomic.py, and the writers that use it
(PDF report, the GUI's CSV export, the CLI's heatmaps)."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pneumo_desktop.core import atomic
from pneumo_desktop.core.atomic import atomic_write_bytes, atomic_write_text
from tests.conftest import REPO, SAMPLES
from tests.robustness.conftest import HAS_QT

OLD, NEW = b"old complete content\n", b"new content " * 10_000
SAMPLE = next(iter(sorted(SAMPLES.glob("NORMAL/*.jpeg"))), None)


class _HalfWriter:
    """A file object whose write puts half the bytes on disk, then fails as a full disk would."""

    def __init__(self, fh: Any) -> None:
        self._fh = fh

    def write(self, data: bytes) -> int:
        self._fh.write(data[: len(data) // 2])
        self._fh.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    def __enter__(self) -> _HalfWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


def _fail_replace(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def replace(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(atomic.os, "replace", replace)


def _fail_fsync(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def fsync(_fd: int) -> None:
        raise error

    monkeypatch.setattr(atomic.os, "fsync", fsync)


def _fail_half_way(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: _HalfWriter(real_fdopen(fd, mode)))


CRASHES: dict[str, tuple[Callable[[pytest.MonkeyPatch, BaseException], None], BaseException]] = {
    "write fails half way": (_fail_half_way, OSError(errno.ENOSPC, "No space left on device")),
    "fsync fails": (_fail_fsync, OSError(errno.EIO, "Input/output error")),
    "rename fails": (_fail_replace, OSError(errno.EACCES, "Permission denied")),
    "interrupted at the rename": (_fail_replace, KeyboardInterrupt()),
}


@pytest.mark.parametrize("existing", [False, True], ids=["new file", "overwrite"])
@pytest.mark.parametrize("crash", list(CRASHES))
def test_failed_write_leaves_old_file_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 crash: str, existing: bool) -> None:
    target = tmp_path / "out.csv"
    if existing:
        target.write_bytes(OLD)
    install, error = CRASHES[crash]
    install(monkeypatch, error)
    with pytest.raises(type(error)):
        atomic_write_bytes(target, NEW)
    assert [p.name for p in tmp_path.iterdir()] == (["out.csv"] if existing else [])  # no temp file
    if existing:
        assert target.read_bytes() == OLD


def test_success_replaces_whole_file_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_bytes(OLD)
    atomic_write_text(target, "é" * 10)
    assert target.read_text(encoding="utf-8") == "é" * 10
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_no_overwrite_refuses_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.pdf"
    target.write_bytes(OLD)
    with pytest.raises(FileExistsError):
        atomic_write_bytes(target, NEW, overwrite=False)
    assert target.read_bytes() == OLD and [p.name for p in tmp_path.iterdir()] == ["out.pdf"]


def test_killed_process_never_leaves_a_half_file(tmp_path: Path) -> None:
    """SIGKILL at the rename (no cleanup code can run): the target still holds its old, whole content.
    What may remain is the hidden ``.out.csv.*.part`` temp file, never a half-written out.csv."""
    target = tmp_path / "out.csv"
    target.write_bytes(OLD)
    program = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from pneumo_desktop.core import atomic\n"
        "atomic.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"atomic.atomic_write_bytes(Path(sys.argv[1]), b'x' * {len(NEW)})\n"
    )
    result = subprocess.run([sys.executable, "-c", program, str(target)], cwd=REPO, capture_output=True)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert target.read_bytes() == OLD
    leftovers = [p.name for p in tmp_path.iterdir() if p != target]
    assert all(name.startswith(".out.csv.") and name.endswith(".part") for name in leftovers), leftovers


# --- the writers that use it ----------------------------------------------------------------------------


def _fail_rename_of(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Renames into ``folder`` fail (full disk); everything else (model loading...) works."""
    real_replace = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if Path(dst).parent == folder:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(atomic.os, "replace", replace)


@pytest.mark.skipif(SAMPLE is None, reason="shared sample images not present")
def test_pdf_report_crash_leaves_the_old_report_whole(tmp_path: Path, tiny_model_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from pneumo_desktop.cli.report import run_report

    out_dir = tmp_path / "reports"
    out_dir.mkdir()
    target = out_dir / "report.pdf"
    target.write_bytes(OLD)
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    _fail_rename_of(monkeypatch, out_dir)
    assert run_report(str(SAMPLE), out=target, force=True) != 0
    assert target.read_bytes() == OLD and [p.name for p in out_dir.iterdir()] == ["report.pdf"]


@pytest.mark.skipif(not HAS_QT, reason="the CSV export lives in the GUI package")
def test_csv_export_crash_leaves_no_half_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pneumo_desktop.gui.export_flow import _write_csv

    target = tmp_path / "results.csv"
    target.write_bytes(OLD)
    records = [{"path": f"image{i}.png", "probability": i / 1000} for i in range(1000)]
    _fail_rename_of(monkeypatch, tmp_path)
    with pytest.raises(OSError):
        _write_csv(target, records)
    assert target.read_bytes() == OLD and [p.name for p in tmp_path.iterdir()] == ["results.csv"]


@pytest.mark.skipif(SAMPLE is None, reason="shared sample images not present")
def test_cli_heatmap_crash_leaves_no_half_png(tmp_path: Path, tiny_model_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from pneumo_desktop import launcher

    heatmaps = tmp_path / "heatmaps"
    heatmaps.mkdir()
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    _fail_rename_of(monkeypatch, heatmaps)
    code = launcher.main(["predict", str(SAMPLE), "--heatmap-dir", str(heatmaps), "--format", "jsonl"])
    out, err = capsys.readouterr()
    record = json.loads(out)
    assert code == 0 and record["probability"] is not None and record["heatmap"] is None
    assert "heatmap could not be written" in err
    assert list(heatmaps.iterdir()) == []
