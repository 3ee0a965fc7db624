"""Training smoke tests on a handful of real Kermany images: resume determinism, DDP, export -> app loader."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from tests.conftest import FILMS_256, KERMANY, REPO, needs_kermany

pytest.importorskip("sklearn")
pytestmark = needs_kermany

TINY = {
    "size": 64, "epochs": 2, "batch_size": 8, "limit": 40, "val_fraction": 0.25, "threads": 1,
    "architecture": {"name": "pneumo_resnet",
                     "arguments": {"widths": [8, 16, 16, 16], "dropout": 0.1, "orientation_classes": 8}},
}


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def _fit(tmp_path: Path, out: Path, *extra: str) -> None:
    from training.cli import main

    assert main(["fit", "--data", str(KERMANY), "--config", str(_config(tmp_path)), "--out", str(out),
                 "--cache-dir", str(tmp_path / "cache"), *extra]) == 0


def _final_state(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoint.pt", weights_only=True)["model"]


def test_interrupted_run_resumes_to_identical_weights(tmp_path: Path) -> None:
    _fit(tmp_path, tmp_path / "straight")
    _fit(tmp_path, tmp_path / "interrupted", "--stop-after-epoch", "1")
    assert not (tmp_path / "interrupted" / "FINISHED").exists()
    _fit(tmp_path, tmp_path / "interrupted")
    a, b = _final_state(tmp_path / "straight"), _final_state(tmp_path / "interrupted")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_fit_export_and_app_loader_round_trip(tmp_path: Path) -> None:
    import numpy as np

    from pneumo_desktop.core.loader import load_image
    from pneumo_desktop.core.predictor import Predictor
    from training.cli import main

    run = tmp_path / "run"
    _fit(tmp_path, run, "--device", "cpu")
    assert (run / "config.yaml").exists() and (run / "split.json").exists()
    models = tmp_path / "models"
    assert main(["export", str(run), "--to", str(models)]) == 0
    assert main(["export", str(run), "--to", str(models)]) == 1  # refuses to overwrite
    assert main(["export", str(run), "--to", str(models), "--force"]) == 0
    predictor = Predictor.load(models)
    assert predictor.card.metrics["validation"]["all"]["roc_auc"]["ci95"]
    assert predictor.card.ood and predictor.card.ood["threshold"] > predictor.card.ood["warn_threshold"] > 0
    assert 0.5 <= predictor.card.temperature <= 20.0  # bounded, even on a separable handful
    assert predictor.card.metrics["validation"]["shifted_variants"]
    assert predictor.runtime.has_orientation
    sample = next((FILMS_256 / "PNEUMONIA").glob("*.jpg"))
    pred = predictor.predict(load_image(sample))
    assert pred.probability is None or 0.0 <= pred.probability <= 1.0
    assert np.isfinite(pred.threshold)


@pytest.mark.slow
def test_torchrun_two_ranks_end_with_identical_weights(tmp_path: Path) -> None:
    config = _config(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "training.cli", "fit", "--data", str(KERMANY), "--config", str(config),
           "--out", str(tmp_path / "ddp"), "--cache-dir", str(tmp_path / "cache")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    digests = {p.name: p.read_text() for p in (tmp_path / "ddp").glob("rank*_weights.sha256")}
    assert len(digests) == 2 and len(set(digests.values())) == 1, digests
