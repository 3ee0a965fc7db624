"""The adult-film flag: fitted on the model's embedding, applied only when the file does not tell the age."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.population_flag import ADULT_LOOK_WARNING, FLAG_FILENAME, AdultFlag
from pneumo_desktop.core.predictor import Predictor
from pneumo_desktop.core.scoring import model_input_for
from tests.conftest import DICOM_DIR, REPO, SAMPLES

MODELS = REPO / "models"


def _write(folder: Path, fingerprint: str, **changes) -> Path:  # type: ignore[no-untyped-def]
    data = {"format_version": 1, "model_fingerprint": fingerprint, "mean": [0.0, 0.0], "scale": [1.0, 1.0],
            "coef": [1.0, -1.0], "intercept": 0.0, "threshold": 0.5} | changes
    (folder / FLAG_FILENAME).write_text(json.dumps(data))
    return folder / FLAG_FILENAME


def test_the_flag_is_a_linear_score_against_its_threshold(tmp_path: Path) -> None:
    flag = AdultFlag.load(_write(tmp_path, "abc"))
    assert flag.looks_adult(np.array([2.0, 0.0])) and not flag.looks_adult(np.array([0.0, 2.0]))
    assert not flag.looks_adult(np.array([2.0, 0.0, 0.0]))  # another model's embedding never flags


def test_a_flag_fitted_on_another_model_is_not_used(tmp_path: Path) -> None:
    _write(tmp_path, "other-model")
    assert AdultFlag.beside(tmp_path, "this-model") is None
    _write(tmp_path, "this-model", format_version=9)
    assert AdultFlag.beside(tmp_path, "this-model") is None
    assert AdultFlag.beside(tmp_path / "missing", "this-model") is None


@pytest.fixture(scope="module")
def shipped() -> Predictor:
    predictor = Predictor.load(MODELS)
    assert predictor.adult_flag is not None, "models/adult_flag.json must match the shipped model"
    return predictor


def _warnings(predictor: Predictor, image) -> list[str]:  # type: ignore[no-untyped-def]
    image = model_input_for(image, predictor.size)
    prediction = predictor.predict(image, heatmap=False)
    assert prediction.probability is not None  # flagged films are still scored
    return image.warnings


def test_an_adult_film_without_an_age_is_scored_with_the_population_warning(shipped: Predictor) -> None:
    film = load_image(DICOM_DIR / "cr_mono2_8bit_jpeg_baseline.dcm")  # an adult (62), NIH via SIIM
    ageless = replace(film, metadata={k: v for k, v in film.metadata.items()
                                      if k not in ("age", "age_years", "birth_date")}, warnings=[])
    assert ADULT_LOOK_WARNING in _warnings(shipped, ageless)
    # With its age in the file the tags decide (the age warning), not the pixels.
    assert ADULT_LOOK_WARNING not in _warnings(shipped, replace(film, warnings=[]))


def test_the_paediatric_samples_are_not_flagged(shipped: Predictor) -> None:
    for path in sorted(SAMPLES.glob("*/*.jpeg")):
        assert ADULT_LOOK_WARNING not in _warnings(shipped, load_image(path)), path.name
