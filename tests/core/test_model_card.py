"""Model card schema, weights pinning and the predictor's contract (the committed tiny models, tests/data)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pneumo_desktop.core.errors import ModelLoadError
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.model_card import (
    CARD_FILENAME,
    FORMAT_VERSION,
    REQUIRED_KEYS,
    RUNTIME_FILENAME,
    WEIGHTS_FILENAME,
    ModelCard,
)
from pneumo_desktop.core.predictor import Predictor, calibrated_probability
from pneumo_desktop.core.preprocess import preprocess, standardise
from tests.conftest import committed_model, needs_torch, tiny_network


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_card_round_trip_has_every_required_field(tiny_model_dir: Path) -> None:
    data = json.loads((tiny_model_dir / CARD_FILENAME).read_text())
    assert set(REQUIRED_KEYS) <= set(data)
    assert data["format_version"] == FORMAT_VERSION
    card = ModelCard.from_dict(data)
    assert card.to_dict() == data


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format_version=99), "format_version 99"),
        (lambda d: d.pop("weights_sha256"), "missing required fields: weights_sha256"),
        (lambda d: d["output"].update(positive_if="p > 0.5"), "unsupported decision rule"),
        (lambda d: d["output"].update(threshold=1.5), "threshold in (0, 1)"),
    ],
)
def test_card_schema_violations_are_refused(tiny_model_dir: Path, tmp_path: Path, mutate, message: str) -> None:
    directory = _copy(tiny_model_dir, tmp_path / "m")
    data = json.loads((directory / CARD_FILENAME).read_text())
    mutate(data)
    (directory / CARD_FILENAME).write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Predictor.load(directory)


def test_tampered_weights_are_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    directory = _copy(tiny_model_dir, tmp_path / "m")
    weights = directory / WEIGHTS_FILENAME
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="does not match its model card"):
        Predictor.load(directory)


@pytest.mark.parametrize("mutate", [
    lambda d: d["output"].update(threshold=0.105),
    lambda d: d["output"].update(temperature=3.0),
    lambda d: d.update(ood={"threshold": 1e9}),
    lambda d: d["preprocess"].update(size=32),
])
def test_edited_decision_fields_are_refused(tiny_model_dir: Path, tmp_path: Path, mutate) -> None:
    directory = _copy(tiny_model_dir, tmp_path / "m")
    data = json.loads((directory / CARD_FILENAME).read_text())
    mutate(data)
    (directory / CARD_FILENAME).write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="model_card.json does not match its weights file: a decision field"):
        Predictor.load(directory)


def test_documentation_fields_may_change(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Metrics are written after the test read; they are not decisions, so they are not pinned."""
    directory = _copy(tiny_model_dir, tmp_path / "m")
    data = json.loads((directory / CARD_FILENAME).read_text())
    data["metrics"]["test"] = {"note": "added after evaluation"}
    (directory / CARD_FILENAME).write_text(json.dumps(data))
    assert Predictor.load(directory).card.fingerprint == data["weights_sha256"]


def test_tampered_runtime_export_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    directory = _copy(tiny_model_dir, tmp_path / "m")
    runtime = directory / RUNTIME_FILENAME
    data = bytearray(runtime.read_bytes())
    data[len(data) // 2] ^= 0xFF
    runtime.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="runtime model model.onnx does not match its model card"):
        Predictor.load(directory)


def test_runtime_export_of_other_weights_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    """An export swapped in from another model, with the card's pin edited to match it, is still refused: the
    export names the weights file it was made from."""
    directory = _copy(tiny_model_dir, tmp_path / "m")
    other = committed_model("tiny_model_seed1", tmp_path)  # make_tiny_model_dir(seed=1)
    shutil.copyfile(other / RUNTIME_FILENAME, directory / RUNTIME_FILENAME)
    data = json.loads((directory / CARD_FILENAME).read_text())
    data["runtime"] = json.loads((other / CARD_FILENAME).read_text())["runtime"]
    (directory / CARD_FILENAME).write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="exported from other weights"):
        Predictor.load(directory)


@pytest.mark.parametrize("damage", ["missing file", "no runtime entry"])
def test_a_model_without_its_runtime_export_is_refused_with_the_way_out(tiny_model_dir: Path, tmp_path: Path,
                                                                        damage: str) -> None:
    directory = _copy(tiny_model_dir, tmp_path / "m")
    if damage == "missing file":
        (directory / RUNTIME_FILENAME).unlink()
    else:
        data = json.loads((directory / CARD_FILENAME).read_text())
        data.pop("runtime")
        (directory / CARD_FILENAME).write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="pneumo-train export-onnx"):
        Predictor.load(directory)


def test_truncated_weights_are_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    directory = _copy(tiny_model_dir, tmp_path / "m")
    weights = directory / WEIGHTS_FILENAME
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ModelLoadError, match="damaged or was replaced"):
        Predictor.load(directory)


def test_missing_model_gives_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="model card not found"):
        Predictor.load(tmp_path)


def test_prediction_is_the_calibrated_sigmoid_of_its_logit_with_or_without_heatmap(
        tiny_predictor: Predictor) -> None:
    rng = np.random.default_rng(0)
    image = LoadedImage(rng.random((120, 90), dtype=np.float32), Path("x.png"), "raster", "0" * 64)
    pred = tiny_predictor.predict(image, heatmap=False)
    assert pred.logit is not None
    assert pred.probability == pytest.approx(calibrated_probability(pred.logit, tiny_predictor.card.temperature),
                                             abs=1e-6)
    assert pred.label == ("PNEUMONIA" if pred.probability >= pred.threshold else "NORMAL")
    with_map = tiny_predictor.predict(image, heatmap=True)
    assert with_map.probability == pytest.approx(pred.probability, abs=1e-5)
    assert with_map.heatmap(image.shape).shape == image.shape


@needs_torch
def test_prediction_is_calibrated_sigmoid_of_logit(tiny_predictor: Predictor) -> None:
    """Parity: the committed tiny model scores as the torch network it was exported from."""
    import torch

    rng = np.random.default_rng(0)
    image = LoadedImage(rng.random((120, 90), dtype=np.float32), Path("x.png"), "raster", "0" * 64)
    pred = tiny_predictor.predict(image, heatmap=False)
    x = torch.from_numpy(preprocess(image.pixels, tiny_predictor.size))[None]
    with torch.inference_mode():
        logit = float(tiny_network(seed=0)(x)[0])  # the torch network the tiny model was exported from
    assert pred.probability == pytest.approx(calibrated_probability(logit, tiny_predictor.card.temperature), abs=1e-6)
    assert pred.label == ("PNEUMONIA" if pred.probability >= pred.threshold else "NORMAL")
    with_map = tiny_predictor.predict(image, heatmap=True)
    assert with_map.probability == pytest.approx(pred.probability, abs=1e-5)
    assert with_map.heatmap(image.shape).shape == image.shape


def test_batch_equals_single(tiny_predictor: Predictor) -> None:
    rng = np.random.default_rng(1)
    images = [LoadedImage(rng.random((100 + 7 * i, 80), dtype=np.float32), Path(f"{i}.png"), "raster", "0")
              for i in range(5)]
    batch = [p.probability for p in tiny_predictor.predict_batch(images)]
    single = [tiny_predictor.predict(im, heatmap=False).probability for im in images]
    assert batch == pytest.approx(single, abs=1e-5)


def test_preprocess_is_square_standardised() -> None:
    rng = np.random.default_rng(2)
    ramp = np.linspace(0, 1, 900, dtype=np.float32)[None, :].repeat(300, axis=0)
    x = preprocess(np.clip(ramp + 0.05 * rng.standard_normal((300, 900)).astype(np.float32), 0, 1), 64)
    assert x.shape == (1, 64, 64) and x.dtype == np.float32
    assert abs(float(x.mean())) < 1e-4 and abs(float(x.std()) - 1) < 1e-2
    constant = standardise(np.full((8, 8), 0.5, np.float32))
    assert np.isfinite(constant).all()
