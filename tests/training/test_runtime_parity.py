"""The app's runtime (ONNX export, CAM from feature maps) gives the torch model's results.

- Grad-CAM without autograd: for features -> global average pool -> linear head, the map computed from the
  feature maps and the head weights equals the autograd Grad-CAM (training/gradcam.py), for one network and
  for ensembles whose members differ, whatever the signs of the head weights.
- The shipped model: every probability within 1e-4 and every heatmap within 1e-3 (max abs on the 0-1 map, at
  the film's size) of the torch model, on the samples and the DICOM fixtures, through the whole Predictor
  (gate, orientation correction, inversion retry), so the same decisions are taken on the same films.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pneumo_desktop import paths
from pneumo_desktop.core.gradcam import class_activation_maps
from pneumo_desktop.core.model_card import CARD_FILENAME, WEIGHTS_FILENAME, ModelCard
from pneumo_desktop.core.population_flag import AdultFlag
from pneumo_desktop.core.predictor import Predictor
from pneumo_desktop.core.scoring import read_for_model
from pneumo_desktop.core.weights import ood_arrays, read_verified
from tests.conftest import DICOM_DIR, SAMPLES
from training.gradcam import grad_cam
from training.model_io import build_model
from training.network import build_network
from training.runtime_export import (
    TorchReference,
    head_weight_name,
    parity_gaps,
    parity_inputs,
)

PROBABILITY_TOLERANCE = 1e-4
HEATMAP_TOLERANCE = 1e-3
FILMS = sorted(SAMPLES.glob("*/*.jpeg")) + sorted(DICOM_DIR.glob("*.dcm"))


def _feature_maps(model: torch.nn.Module, x: torch.Tensor, layers: list[str]) -> list[np.ndarray]:
    captured: list[np.ndarray] = []
    handles = [model.get_submodule(name).register_forward_hook(
        lambda _m, _i, out: captured.append(out.detach().numpy())) for name in layers]
    with torch.inference_mode():
        model.outputs(x)  # type: ignore[operator]
    for handle in handles:
        handle.remove()
    return captured


@pytest.mark.parametrize("members", [
    None,  # a single network
    [{"widths": [8, 16, 16, 16], "orientation_classes": 8}, {"widths": [8, 8, 16, 24], "orientation_classes": 8},
     {"widths": [8, 16, 16, 16], "orientation_classes": 8}],
])
def test_class_activation_map_equals_autograd_grad_cam(members: list[dict] | None) -> None:
    torch.manual_seed(0)
    if members is None:
        model, layers = build_network("pneumo_resnet", widths=[8, 16, 16, 16]).eval(), ["features.4"]
    else:
        model = build_network("pneumo_ensemble", members=members).eval()
        layers = [f"members.{i}.features.4" for i in range(len(members))]
    with torch.no_grad():  # heads with both signs, so the ReLU has cells to cut
        for name in layers:
            model.get_parameter(head_weight_name(name)).normal_()
    x = torch.from_numpy(parity_inputs(64, count=3))
    heads = [model.get_parameter(head_weight_name(n)).detach().reshape(-1).numpy() for n in layers]
    cams = class_activation_maps(_feature_maps(model, x, layers), heads)
    reference = grad_cam(model, x, layers)[3]
    assert cams.min() >= 0.0 and cams.max() <= 1.0 and (cams == 0).any() and (cams > 0.5).any()
    np.testing.assert_allclose(cams, reference, atol=1e-6)


@pytest.fixture(scope="module")
def shipped() -> tuple[Predictor, Predictor]:
    """(the app's predictor, the same model run by torch with autograd Grad-CAM)."""
    directory = paths.models_dir()
    card = ModelCard.read(directory / CARD_FILENAME)
    tensors = read_verified(directory / WEIGHTS_FILENAME, card)
    reference = TorchReference(build_model(card, tensors), card.cam_layers)
    # The adult-film flag reads the embedding: torch's must give the same flag as the export's.
    flag = AdultFlag.beside(directory, card.fingerprint)
    return Predictor.load(directory), Predictor(card, reference, ood_arrays(tensors), flag)


def test_shipped_export_outputs_equal_the_torch_model(shipped: tuple[Predictor, Predictor]) -> None:
    app, reference = shipped
    assert isinstance(reference.runtime, TorchReference)
    model = reference.runtime.model
    gaps = parity_gaps(model, app.runtime, app.card, parity_inputs(app.size, count=6, seed=1))
    assert max(gaps.values()) <= PROBABILITY_TOLERANCE, gaps


@pytest.mark.parametrize("path", FILMS, ids=lambda p: p.name)
def test_shipped_model_scores_every_fixture_as_torch_did(shipped: tuple[Predictor, Predictor], path: Path) -> None:
    from pneumo_desktop.core.errors import ImageLoadError

    app, reference = shipped
    try:
        image, again = read_for_model(path, app.size), read_for_model(path, reference.size)
    except ImageLoadError:
        pytest.skip("not decodable (a fixture for the loader's refusals)")
    ours, theirs = app.predict(image), reference.predict(again)
    assert (ours.rejected and ours.rejected.code) == (theirs.rejected and theirs.rejected.code)
    assert image.warnings == again.warnings
    if theirs.probability is None:
        assert ours.probability is None
        return
    assert ours.probability == pytest.approx(theirs.probability, abs=PROBABILITY_TOLERANCE)
    assert ours.label == theirs.label
    heat, expected = ours.heatmap(image.shape), theirs.heatmap(image.shape)
    assert heat is not None and expected is not None
    assert float(np.abs(heat - expected).max()) <= HEATMAP_TOLERANCE


def test_batches_score_as_torch_did(shipped: tuple[Predictor, Predictor]) -> None:
    app, reference = shipped
    films = [p for p in FILMS if p.suffix == ".jpeg"]
    ours = app.predict_batch([read_for_model(p, app.size) for p in films])
    theirs = reference.predict_batch([read_for_model(p, reference.size) for p in films])
    assert [p.probability for p in ours] == pytest.approx([p.probability for p in theirs], abs=PROBABILITY_TOLERANCE)
