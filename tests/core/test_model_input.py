"""core.scoring.model_input_for: the model's reading of a file that was already decoded in full for a page or screen."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.scoring import model_input_for, read_for_model
from tests.conftest import DICOM_DIR, SAMPLES


def test_a_dicom_is_scored_from_the_decode_already_made(tiny_predictor) -> None:
    shown = load_image(DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm")
    scored = model_input_for(shown, tiny_predictor.size)
    assert scored is not shown and scored.pixels is shown.pixels  # no second decode, no pixel copy
    scored.warnings.append("added while scoring")
    assert "added while scoring" not in shown.warnings  # until the caller adopts it


def test_a_jpeg_is_read_again_the_models_way(tiny_predictor) -> None:
    path = sorted(SAMPLES.rglob("*.jpeg"))[0]
    scored = model_input_for(load_image(path), tiny_predictor.size)
    expected = read_for_model(path, tiny_predictor.size)
    assert scored.shape == expected.shape and np.array_equal(scored.pixels, expected.pixels)


def test_a_file_changed_between_the_reads_is_refused(tiny_predictor, tmp_path: Path) -> None:
    jpegs = sorted(SAMPLES.rglob("*.jpeg"))
    path = tmp_path / "film.jpeg"
    shutil.copy(jpegs[0], path)
    shown = load_image(path)
    shutil.copy(jpegs[1], path)
    with pytest.raises(ImageLoadError, match="changed while it was being read"):
        model_input_for(shown, tiny_predictor.size)
