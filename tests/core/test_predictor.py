"""The Predictor on the shipped model: the batch path (folders, the study list, `predict` over many files) gives
every film the same result as scoring it alone, refusals and the polarity retry included, and a retry that
fails leaves the film's warnings as they were."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.predictor import NEGATIVE_WARNING, Predictor
from pneumo_desktop.core.scoring import model_input_for
from tests.conftest import DICOM_DIR, SAMPLES

GATE_EVAL = Path(__file__).resolve().parents[2] / "training" / "gate_eval"


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.load()


def _inputs(predictor: Predictor) -> list[LoadedImage]:
    paths = [*sorted(SAMPLES.glob("*/*.jpeg"))[:4],
             DICOM_DIR / "cr_mono1_tag_on_mono2_pixels_jpeg_baseline.dcm",  # scored inverted, with a warning
             DICOM_DIR / "cr_mono2_8bit_jpeg_baseline.dcm",
             *sorted((GATE_EVAL / "ct").glob("*"))[:2]]  # refused
    return [model_input_for(load_image(p), predictor.size) for p in paths]


def test_the_batch_gives_each_film_what_it_gets_alone(predictor: Predictor) -> None:
    alone_images = _inputs(predictor)
    alone = [predictor.predict(image, heatmap=False) for image in alone_images]
    batch_images = _inputs(predictor)
    batch = predictor.predict_batch(batch_images)
    assert len(batch) == len(alone)
    assert any(r.rejected is not None for r in alone) and any(r.rejected is None for r in alone)
    for single, together, a, b in zip(alone, batch, alone_images, batch_images, strict=True):
        assert (single.rejected is None) == (together.rejected is None), a.path.name
        if single.rejected is None:
            assert together.probability == pytest.approx(single.probability, abs=1e-5), a.path.name
            assert together.label == single.label
        else:
            assert together.rejected.code == single.rejected.code
        assert a.warnings == b.warnings, a.path.name
    inverted = next(i for i, image in enumerate(batch_images) if NEGATIVE_WARNING in image.warnings)
    assert batch[inverted].rejected is None


def test_a_failed_polarity_retry_leaves_the_warnings_as_they_were(predictor: Predictor) -> None:
    ct = next(iter(sorted((GATE_EVAL / "ct").glob("*"))))
    image = model_input_for(load_image(ct), predictor.size)
    before = list(image.warnings)
    result = predictor.predict(image, heatmap=False)
    assert result.rejected is not None
    assert image.warnings == before


def test_scoring_never_changes_the_pixels(predictor: Predictor) -> None:
    image = model_input_for(load_image(DICOM_DIR / "cr_mono1_tag_on_mono2_pixels_jpeg_baseline.dcm"), predictor.size)
    pixels = image.pixels.copy()
    predictor.predict(image, heatmap=True)
    predictor.predict_batch([image])
    assert np.array_equal(image.pixels, pixels)
