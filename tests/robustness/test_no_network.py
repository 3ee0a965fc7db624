"""The app opens no network sockets: the CLI and the GUI run in subprocesses whose sockets are read from
the kernel (psutil over /proc) while they run, plus a Python audit hook for short-lived Python sockets
(tests/robustness/app_process.py). Monkeypatching ``socket`` in-process would miss Qt's own C++ code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.robustness.app_process import run_watched
from tests.robustness.conftest import SAMPLE, GuiRun

needs_sample = pytest.mark.skipif(SAMPLE is None, reason="shared sample images not present")


def test_the_watch_sees_a_program_that_does_open_sockets() -> None:
    # Both witnesses, on a program that listens on TCP: proof that an empty list below means something.
    watched = run_watched(["0", "--bind", "127.0.0.1"], {}, module="http.server", max_s=2.5)
    assert any("SOCK_STREAM" in s and "LISTEN" in s for s in watched.kernel_sockets), watched
    assert any(e.startswith("socket.bind") for e in watched.python_events), watched


@needs_sample
@pytest.mark.slow
def test_cli_predict_opens_no_sockets(tiny_model_dir: Path, tmp_path: Path) -> None:
    env = {"PNEUMO_DESKTOP_HOME": str(tmp_path), "PNEUMO_DESKTOP_MODELS": str(tiny_model_dir)}
    # Every sample film with heatmaps and a PDF's worth of work, so the process lives long enough to be watched:
    # with the ONNX runtime one film is scored in well under a second.
    films = sorted(SAMPLE.parent.parent.glob("*/*.jpeg"))
    watched = run_watched(["predict", *map(str, films), "--format", "jsonl", "--heatmap-dir",
                           str(tmp_path / "heatmaps")], env)
    assert watched.returncode == 0, watched.stderr
    records = [json.loads(line) for line in watched.stdout.splitlines()]
    assert len(records) == len(films) and all(0.0 <= r["probability"] <= 1.0 for r in records)
    assert watched.polls >= 5  # the sockets were really read while it ran
    assert watched.kernel_sockets == []
    assert watched.python_events == []


@pytest.mark.slow
def test_gui_opens_no_sockets(gui_run: GuiRun) -> None:
    watched = gui_run.watched
    assert watched.up, f"the window never came up: {watched.stderr[-2000:]}"
    # Both valid inputs were scored: the model thread ran, not only the window.
    assert len(gui_run.audit_lines) >= 2, f"no predictions in time: {watched.stderr[-2000:]}"
    assert all(line["source"] == "gui" for line in gui_run.audit_lines)
    assert watched.polls >= 20
    assert watched.kernel_sockets == []
    assert watched.python_events == []
    assert "Traceback (most recent call last)" not in watched.stderr


def test_the_model_runtime_writes_nothing_outside_the_app_folders(tiny_model_dir: Path, tmp_path: Path) -> None:
    """ONNX Runtime writes a telemetry device id (~/.cache/Microsoft/...) and a temp file at import unless it is
    told not to (core/runtime.onnxruntime): loading and running the model must leave HOME and TMPDIR as they were."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    code = ("import numpy as np; from pathlib import Path; from pneumo_desktop.core.predictor import Predictor; "
            "from pneumo_desktop.core.image import LoadedImage; p = Predictor.load(Path(__import__('sys').argv[1])); "
            "im = LoadedImage(np.random.default_rng(0).random((80, 90), dtype=np.float32), Path('x.png'), 'raster', "
            "'0' * 64); print(p.predict(im).probability)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ORT_"))}
    env.update(HOME=str(home), TMPDIR=str(tmp), PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", code, str(tiny_model_dir)], capture_output=True, text=True,
                          env=env, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert 0.0 <= float(done.stdout) <= 1.0
    assert [p for p in home.rglob("*")] == [] and [p for p in tmp.rglob("*")] == []
