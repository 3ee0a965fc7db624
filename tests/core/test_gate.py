"""Gate v2: DICOM tags, orientation (correct / refuse / mirrored warning), warn and refuse distances,
the inversion retry's margin, and ensembles. Tiny models with rigged heads make each decision known: the
committed tiny model's export (tests/data/tiny_model, no torch needed) with its orientation head's answer
scripted; the ensemble round trip and the torch-tensor orientations need torch (training writes ensembles)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from pneumo_desktop.core.gate import Gate
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.orientation import ORIENTATIONS, inverse_orientation, orient
from pneumo_desktop.core.predictor import Predictor
from pneumo_desktop.core.runtime import OnnxModel, Outputs
from tests.conftest import HAVE_TORCH, TINY_MODELS, needs_torch

if HAVE_TORCH:  # training's ensemble and orientation tensors; every other test here runs without torch
    import torch

    from training.model_io import save_model
    from training.network import build_network
    from training.network import orient as orient_tensor

SIZE = 64
ARGS = {"widths": [8, 16, 16, 16], "dropout": 0.0, "orientation_classes": 8}


def film(seed: int = 0, shape: tuple[int, int] = (120, 100)) -> LoadedImage:
    pixels = np.random.default_rng(seed).random(shape, dtype=np.float32)
    pixels[: shape[0] // 3] *= 0.3  # not symmetric under any flip or turn
    return LoadedImage(pixels, Path(f"film{seed}.png"), "raster", f"{seed:064d}")


def card_for(architecture: dict, ood: dict | None = None, cam_layer: str | list[str] = "features.4") -> ModelCard:
    return ModelCard(
        name="gate-test", version="0", architecture=architecture,
        preprocess={"size": SIZE, "resample": "bilinear", "normalisation": "per_image_standardise"},
        output={"temperature": 1.0, "threshold": 0.5, "positive_if": "p >= threshold"}, cam_layer=cam_layer,
        ood=ood,
    )


@cache
def tiny_runtime() -> OnnxModel:
    """The committed tiny model's export (make_tiny_model_dir, seed 0; 64 px, CAM layer features.4)."""
    return Predictor.load(TINY_MODELS / "tiny_model").runtime


class Rigged:
    """The tiny model with an orientation head that ignores the image and says ``orientation_bias`` (None: a
    model without an orientation head)."""

    def __init__(self, inner: OnnxModel, orientation_bias: list[float] | None) -> None:
        self.inner, self.bias = inner, orientation_bias

    def run(self, x: np.ndarray, heatmap: bool) -> Outputs:
        logits, embedding, _, cams = self.inner.run(x, heatmap)
        if self.bias is None:
            return logits, embedding, None, cams
        return logits, embedding, np.broadcast_to(np.array(self.bias, np.float32), (x.shape[0], 8)), cams


def rigged(orientation_bias: list[float]) -> Predictor:
    """A tiny network whose orientation head ignores the image and says ``orientation_bias``."""
    card = card_for({"name": "pneumo_resnet", "arguments": ARGS})
    return Predictor(card, Rigged(tiny_runtime(), orientation_bias), {})


def logit_of(x: np.ndarray) -> float:
    """The tiny network's logit for model input ``x`` (one film), as the runtime computes it."""
    return float(tiny_runtime().run(np.ascontiguousarray(x), heatmap=False)[0][0])


def bias_for(index: int, strength: float = 12.0) -> list[float]:
    bias = [0.0] * 8
    bias[index] = strength
    return bias


@needs_torch
def test_orientations_invert_and_match_numpy_and_the_training_tensors() -> None:
    x = np.arange(20.0).reshape(4, 5)
    for index in range(8):
        assert np.array_equal(orient(orient(x, index), inverse_orientation(index)), x), ORIENTATIONS[index]
        assert np.array_equal(orient_tensor(torch.from_numpy(x), index).numpy(), orient(x, index))
    assert np.array_equal(orient(x, 1), np.rot90(x, 1))
    assert np.array_equal(orient(x, 4), x[:, ::-1])
    assert np.array_equal(orient(x, 5), x[::-1])


def test_upright_film_is_scored_without_warning() -> None:
    image = film()
    result = rigged(bias_for(0)).predict(image)
    assert result.probability is not None and not image.warnings


class Scripted:
    """A runtime whose orientation head answers from a script, one answer per forward pass."""

    def __init__(self, inner: OnnxModel, answers: list[int]) -> None:
        self.inner, self.answers = inner, list(answers)

    def run(self, x: np.ndarray, heatmap: bool) -> Outputs:
        logits, embedding, _, cams = self.inner.run(x, heatmap)
        answer = np.broadcast_to(np.array(bias_for(self.answers.pop(0)), np.float32), (x.shape[0], 8))
        return logits, embedding, answer, cams


def test_confidently_rotated_film_is_scored_turned_upright_with_a_warning() -> None:
    card = card_for({"name": "pneumo_resnet", "arguments": ARGS})
    predictor = Predictor(card, Scripted(tiny_runtime(), [2, 0]), {})  # rot180, then upright once turned
    image = film()
    result = predictor.predict(image)
    assert result.probability is not None and result.rejected is None
    assert any("rotated by 180°" in w for w in image.warnings)
    # The score is the upright film's: the same network on the image turned back.
    x = orient(predictor.input_tensor([image]), inverse_orientation(ORIENTATIONS.index("rot180")))
    assert result.logit == pytest.approx(logit_of(x), abs=1e-5)
    assert result.cam is not None and result.cam.shape == (2, 2)


def test_a_correction_that_still_does_not_read_upright_is_refused() -> None:
    result = rigged(bias_for(ORIENTATIONS.index("rot90"))).predict(film())  # says "rot90" whatever it is shown
    assert result.rejected is not None and result.rejected.code == "not_upright"
    assert "still does not read as upright" in result.rejected.reason


def test_unsure_upright_reading_is_refused_as_not_a_frontal_chest_film() -> None:
    bias = [2.0, 1.5, 1.5, 0.0, 0.0, 0.0, 0.0, 0.0]  # "upright", but far from sure
    result = rigged(bias).predict(film())
    assert result.rejected is not None and result.rejected.code == "out_of_distribution"
    # In a clinician's words; the measurement in the details line, not the headline (issue 24 B8).
    assert result.rejected.reason.startswith("the image does not look like a frontal chest film the model was")
    assert "confidence" not in result.rejected.reason and "orientation confidence" in result.rejected.detail
    assert result.rejected.details_line().startswith("code out_of_distribution; orientation confidence 0.")


def test_uncertain_orientation_is_refused_as_not_upright() -> None:
    bias = [0.0] * 8
    bias[1] = bias[3] = 6.0  # torn between 90 and 270 degrees: neither reaches correct_min
    image = film()
    result = rigged(bias).predict(image)
    assert result.probability is None and result.rejected is not None
    assert result.rejected.code == "not_upright" and "rotate or flip it in the viewer" in result.rejected.reason


def test_mirrored_film_is_scored_flipped_back_with_a_warning() -> None:
    card = card_for({"name": "pneumo_resnet", "arguments": ARGS})
    image = film()
    predictor = Predictor(card, Scripted(tiny_runtime(), [4, 0]), {})  # mirrored; upright flipped back
    result = predictor.predict(image)
    assert result.probability is not None
    assert any(w.startswith("Possibly mirrored") for w in image.warnings)
    assert not any(w.startswith("Orientation corrected") for w in image.warnings)
    x = predictor.input_tensor([image])[..., ::-1].copy()
    assert result.logit == pytest.approx(logit_of(x), abs=1e-5)


@pytest.mark.parametrize(("tag", "value", "code"), [
    ("body_part", "SKULL", "body_part_not_chest"), ("body_part", "knee", "body_part_not_chest"),
    ("modality", "CT", "not_radiograph"), ("modality", "MR", "not_radiograph"),
    ("view_position", "LL", "not_frontal"),
])
def test_dicom_tags_that_are_clearly_not_a_frontal_chest_film_refuse(tag: str, value: str, code: str) -> None:
    image = film()
    image.metadata[tag] = value
    rejection = Gate().check_image(image)
    assert rejection is not None and rejection.code == code and value.upper() in rejection.reason.upper()


@pytest.mark.parametrize("value", ["", None, "CHEST", "THORAX", "PORT CHEST", "Unknown"])
def test_missing_empty_or_chest_body_part_never_refuses(value: str | None) -> None:
    image = film()
    image.metadata["body_part"] = value
    assert Gate().check_image(image) is None


def _gated(warn: float, refuse: float, margin: float = 0.8) -> Predictor:
    """A tiny model whose gate Gaussian sits on the embedding of film(0): distances are known."""
    card = card_for({"name": "pneumo_resnet", "arguments": ARGS})
    predictor = Predictor(card, Rigged(tiny_runtime(), None), {})
    centre = predictor.runtime.run(predictor.input_tensor([film(0)]), heatmap=False)[1][0]
    gate = predictor.gate
    gate.ood_mean, gate.ood_precision = centre, np.eye(centre.size, dtype=np.float32)
    gate.warn_threshold, gate.refuse_threshold, gate.inversion_margin = warn, refuse, margin
    return predictor


def _distance(predictor: Predictor, image: LoadedImage) -> float:
    embedding = predictor.runtime.run(predictor.input_tensor([image]), heatmap=False)[1][0]
    score = predictor.gate.ood_score(embedding)
    assert score is not None
    return score


def test_distance_past_warn_scores_with_unusual_warning_and_past_refuse_refuses() -> None:
    other = film(5)
    d = _distance(_gated(1, 2), other)
    assert d > 0
    image = film(5)
    scored = _gated(d * 0.5, d * 2).predict(image)
    assert scored.probability is not None and any(w.startswith("Unusual image") for w in image.warnings)
    refused = _gated(d * 0.25, d * 0.5).predict(film(5))
    assert refused.rejected is not None and refused.rejected.code == "out_of_distribution"
    assert "frontal chest film the model was trained on" in refused.rejected.reason
    assert "distance" not in refused.rejected.reason and refused.rejected.detail.startswith("distance from the ")
    assert refused.rejected.to_dict()["detail"] == refused.rejected.detail


def test_inversion_retry_needs_a_clear_margin_inside() -> None:
    negative = film(0)
    negative.pixels[:] = 1.0 - negative.pixels  # film(0) is the gate's centre once inverted back
    d = _distance(_gated(1, 2), negative)
    # Refused as it is; once inverted it sits at distance 0, clearly inside: scored, with the polarity warning.
    retried = _gated(d * 0.2, d * 0.4).predict(negative)
    assert retried.probability is not None and any("scored inverted" in w for w in negative.warnings)
    # With a margin of 0 nothing is "clearly inside" except an exact match... which this is not once jittered.
    jittered = film(0)
    jittered.pixels[:] = np.clip(1.0 - jittered.pixels + 0.05 * film(9).pixels, 0, 1)
    stays = _gated(d * 0.2, d * 0.4, margin=1e-6).predict(jittered)
    assert stays.rejected is not None and stays.rejected.code == "out_of_distribution"


@needs_torch
def test_ensemble_round_trip_scores_the_mean_logit_and_averages_the_maps(tmp_path: Path) -> None:
    torch.manual_seed(1)
    members = [ARGS, {**ARGS, "widths": [8, 8, 16, 16]}]
    model = build_network("pneumo_ensemble", members=members).eval()
    with torch.no_grad():
        for member in model.members:
            member.orientation.weight.zero_()
            member.orientation.bias.copy_(torch.tensor(bias_for(0)))
    card = card_for({"name": "pneumo_ensemble", "arguments": {"members": members}},
                    cam_layer=["members.0.features.4", "members.1.features.4"])
    save_model(tmp_path, model, card)
    predictor = Predictor.load(tmp_path)
    image = film(3)
    result = predictor.predict(image)
    x = torch.from_numpy(predictor.input_tensor([image]))
    with torch.inference_mode():
        each = [float(m.outputs(x)[0][0]) for m in model.members]
    assert result.logit == pytest.approx(float(np.mean(each)), abs=1e-5)
    assert result.cam is not None and result.cam.min() >= 0.0 and result.cam.max() <= 1.0


def test_score_as_displayed_trusts_the_reader_and_maps_the_heatmap_back() -> None:
    card = card_for({"name": "pneumo_resnet", "arguments": ARGS})
    runtime = tiny_runtime()
    image = film()
    turn = ORIENTATIONS.index("rot90")
    # The head says "rot270" (it would turn the film again) — but the reader turned it and asked: scored as shown.
    predictor = Predictor(card, Scripted(runtime, [3]), {})
    result = predictor.predict(image, displayed=turn)
    assert result.rejected is None and any(w.startswith("Scored as displayed") for w in image.warnings)
    assert not any(w.startswith("Orientation corrected") for w in image.warnings)
    x = orient(predictor.input_tensor([image]), turn).copy()
    assert result.logit == pytest.approx(logit_of(x), abs=1e-5)
    shown = LoadedImage(np.ascontiguousarray(orient(image.pixels, turn)), image.path, "raster", image.file_sha256)
    cam_shown = Predictor(card, Scripted(runtime, [0]), {}).predict(shown).cam
    assert result.cam is not None and cam_shown is not None
    np.testing.assert_allclose(result.cam, orient(cam_shown, inverse_orientation(turn)), atol=1e-4)


@pytest.mark.parametrize(("matrix", "name"), [
    ((1, 0, 0, 1), "upright"),
    ((0, -1, 1, 0), "rot90"),        # Qt rotate(-90): a quarter turn counter-clockwise on screen
    ((-1, 0, 0, -1), "rot180"),
    ((0, 1, -1, 0), "rot270"),
    ((-1, 0, 0, 1), "mirrored"),     # fromScale(-1, 1): flip horizontally
    ((1, 0, 0, -1), "upside_down"),  # fromScale(1, -1): flip vertically
])
def test_viewer_matrices_map_to_the_orientation_the_model_knows(matrix: tuple, name: str) -> None:
    from pneumo_desktop.core.orientation import orientation_of_view

    assert ORIENTATIONS[orientation_of_view(*matrix)] == name
