"""Checks on the real model shipped in models/ (the one the app loads)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from pneumo_desktop import paths
from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.model_card import CARD_FILENAME
from tests.conftest import DICOM_DIR, FILMS_256, KERMANY, SAMPLES, needs_kermany

CARD = paths.models_dir() / CARD_FILENAME
DECODABLE_CHEST_DICOM = sorted(
    p for p in DICOM_DIR.glob("*.dcm")
    if p.name not in {"cr_chest_no_pixel_data.dcm", "dx_mono1_12bit_j2k_lossless_bad_marker.dcm"}
)


@pytest.fixture(scope="module")
def predictor():
    from pneumo_desktop.core.predictor import Predictor

    return Predictor.load()


def test_models_dir_holds_a_trained_model() -> None:
    card = json.loads(CARD.read_text())
    assert card["metrics"]["validation"]["all"]["roc_auc"]["value"] > 0.9
    assert (paths.models_dir() / "MODEL_CARD.md").exists()


def test_rg1_j2k_and_jpegls_agree(predictor) -> None:
    a = predictor.predict(load_image(DICOM_DIR / "cr_mono1_15bit_j2k_lossy.dcm"), heatmap=False)
    b = predictor.predict(load_image(DICOM_DIR / "cr_mono1_15bit_jpegls_near_lossless.dcm"), heatmap=False)
    assert a.probability is not None and b.probability is not None
    assert abs(a.probability - b.probability) <= 0.02


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*/*.jpeg")), ids=lambda p: p.name)
def test_full_resolution_original_matches_its_256px_copy(predictor, sample: Path) -> None:
    copy = FILMS_256 / sample.parent.name / f"{sample.stem}.jpg"
    full = predictor.predict(load_image(sample, draft_size=predictor.size), heatmap=False)
    small = predictor.predict(load_image(copy), heatmap=False)
    assert full.rejected is None and small.rejected is None
    assert full.label == small.label
    assert abs(full.probability - small.probability) <= 0.02


@pytest.mark.parametrize("path", DECODABLE_CHEST_DICOM + sorted(SAMPLES.glob("*/*.jpeg")), ids=lambda p: p.name)
def test_every_real_chest_image_passes_the_gate(predictor, path: Path) -> None:
    pred = predictor.predict(load_image(path), heatmap=False)
    assert pred.rejected is None, pred.rejected


@pytest.mark.slow
@needs_kermany
def test_card_test_metrics_reproduce_through_the_cli() -> None:
    """`pneumo-desktop predict` over the 624 test images gives the card's test metrics to 1e-3.

    This also catches preprocessing drift between training and the app.
    """
    from pneumo_desktop.launcher import main
    from training.metrics import point_metrics

    card = json.loads(CARD.read_text())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["predict", str(KERMANY / "test"), "--format", "jsonl"])
    assert code == 0
    records = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    assert len(records) == 624
    scored = [r for r in records if r["probability"] is not None]
    probs = np.array([r["probability"] for r in scored])
    labels = np.array([1 if "/PNEUMONIA/" in r["path"].replace("\\", "/") else 0 for r in scored])
    expected = card["metrics"]["test"]
    assert expected["n"] == len(scored)
    got = point_metrics(probs, labels, card["output"]["threshold"])
    for key in ("accuracy", "sensitivity", "specificity", "roc_auc", "pr_auc", "ece"):
        assert got[key] == pytest.approx(expected[key]["value"], abs=1e-3), key


def test_wrong_polarity_tag_is_scored_inverted_with_a_warning(predictor) -> None:
    from pneumo_desktop.core.predictor import NEGATIVE_WARNING

    right = predictor.predict(load_image(DICOM_DIR / "cr_mono2_8bit_jpeg_baseline.dcm"), heatmap=False)
    image = load_image(DICOM_DIR / "cr_mono1_tag_on_mono2_pixels_jpeg_baseline.dcm")
    wrong = predictor.predict(image, heatmap=False)
    assert wrong.rejected is None and NEGATIVE_WARNING in image.warnings
    assert abs(wrong.probability - right.probability) <= 1e-3
