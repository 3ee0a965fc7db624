"""The committed tiny models (tests/data, which the app's tests load without torch) are still what training
writes: rebuilt here with torch (tests/tiny_models.py), each must have the same card, the same tensors and
weights metadata, and its export the same outputs within 1e-5 on a few inputs. The bytes are not compared:
safetensors writes its metadata in no fixed order and an ONNX export may differ between runs.

When this fails after a deliberate change to training's save path, the network or the card, regenerate them:
``python -m tests.tiny_models``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

from pneumo_desktop.core.model_card import CARD_FILENAME, WEIGHTS_FILENAME
from pneumo_desktop.core.predictor import Predictor
from tests.conftest import TINY_MODELS
from tests.tiny_models import BUILDERS, torch_model
from training.runtime_export import PARITY_TOLERANCE, parity_gaps, parity_inputs

OUTPUT_TOLERANCE = 1e-5
REGENERATE = "the committed tiny model is stale: regenerate it with `python -m tests.tiny_models`"
# Pins of the bytes (which vary between runs, see above); everything else in the card must be equal.
BYTE_PINS = ("weights_sha256", "runtime")


def _card(directory: Path) -> dict:
    card = json.loads((directory / CARD_FILENAME).read_text())
    return {k: v for k, v in card.items() if k not in BYTE_PINS}


def _weights(directory: Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    with safe_open(str(directory / WEIGHTS_FILENAME), "np") as f:
        return dict(f.metadata() or {}), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - not a dict


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rebuilt")
    for name, build in BUILDERS.items():
        build(root / name)
    return root


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_committed_tiny_model_is_what_training_writes(name: str, rebuilt: Path) -> None:
    committed, fresh = TINY_MODELS / name, rebuilt / name
    assert sorted(p.name for p in committed.iterdir()) == sorted(p.name for p in fresh.iterdir()), REGENERATE
    assert _card(committed) == _card(fresh), REGENERATE
    committed_meta, committed_tensors = _weights(committed)
    fresh_meta, fresh_tensors = _weights(fresh)
    assert committed_meta == fresh_meta, REGENERATE
    assert committed_tensors.keys() == fresh_tensors.keys(), REGENERATE
    for key, value in fresh_tensors.items():
        assert committed_tensors[key].dtype == value.dtype and np.array_equal(committed_tensors[key], value), (
            f"{key}: {REGENERATE}")

    # Both load as the app loads a model (every pin checked), and score alike.
    old, new = Predictor.load(committed), Predictor.load(fresh)
    x = parity_inputs(old.size, count=4, seed=7)
    for a, b in zip(old.runtime.run(x, heatmap=True), new.runtime.run(x, heatmap=True), strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=OUTPUT_TOLERANCE, rtol=0, err_msg=REGENERATE)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_committed_tiny_model_export_reproduces_its_torch_network(name: str) -> None:
    """The same check training makes before it writes an export, made on the committed file."""
    predictor = Predictor.load(TINY_MODELS / name)
    gaps = parity_gaps(torch_model(name), predictor.runtime, predictor.card, parity_inputs(predictor.size, seed=3))
    assert max(gaps.values()) <= PARITY_TOLERANCE, gaps
