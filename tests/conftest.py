"""Shared fixtures: real data paths and tiny models built on the fly (models/ holds only the real one)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
KERMANY = SHARED / "data" / "kermany"
SAMPLES = SHARED / "data" / "samples"
DICOM_DIR = SHARED / "data" / "dicom"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config, cache and state (audit log) go to a temp folder, never the developer's home."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("PNEUMO_DESKTOP_HOME", str(home))
    return home


TINY_ARGUMENTS = {"widths": [8, 16, 16, 16], "dropout": 0.0}


def tiny_network(seed: int = 0):  # type: ignore[no-untyped-def]
    """The tiny models' torch network (training.network.PneumoNet), in eval mode."""
    import torch

    from training.network import build_network

    torch.manual_seed(seed)
    return build_network("pneumo_resnet", **TINY_ARGUMENTS).eval()


def make_tiny_model_dir(directory: Path, *, seed: int = 0, cam_layer: str = "features.4") -> Path:
    """A randomly initialised small PneumoNet saved exactly as training would save a real one: weights, runtime
    export (ONNX) and card."""
    from pneumo_desktop.core.model_card import ModelCard
    from training.model_io import save_model

    arguments = dict(TINY_ARGUMENTS)
    model = tiny_network(seed)
    card = ModelCard(
        name="tiny-test-model",
        version="0.0.0",
        architecture={"name": "pneumo_resnet", "arguments": arguments},
        preprocess={"size": 64, "resample": "bilinear", "normalisation": "per_image_standardise"},
        output={"temperature": 1.0, "threshold": 0.5, "positive_if": "p >= threshold"},
        cam_layer=cam_layer,
        intended_population={"description": "test model, not for use", "age_years": [1, 5],
                             "views": ["PA", "AP"], "modalities": ["CR", "DX"]},
        metrics={"validation": None, "test": None},
        ood=None,
        data_fingerprint="none",
        config={"test": True},
        git_commit="none",
    )
    save_model(directory, model, card)
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model_dir(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture(scope="session")
def tiny_predictor(tiny_model_dir: Path):
    from pneumo_desktop.core.predictor import Predictor

    return Predictor.load(tiny_model_dir)
