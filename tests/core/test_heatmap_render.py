"""The one heatmap colour map and blend (CLI PNGs, PDF reports, GUI overlay)."""

from __future__ import annotations

import numpy as np
import pytest

from pneumo_desktop.core.heatmap_render import blend, colour_lut, colourise, to_gray_uint8


def test_colour_map_gets_steadily_lighter() -> None:
    # A perceptually ordered map reads the same in gray print and for colour-blind readers.
    lut = colour_lut().astype(float)
    assert lut.shape == (256, 3)
    luminance = lut @ np.array([0.2126, 0.7152, 0.0722])
    assert np.all(np.diff(luminance) > -1.0)
    assert luminance[-1] - luminance[0] > 150


def test_zero_influence_leaves_the_image_gray() -> None:
    pixels = np.linspace(0, 1, 64 * 48, dtype=np.float32).reshape(64, 48)
    out = blend(pixels, np.zeros_like(pixels))
    gray = to_gray_uint8(pixels)
    assert out.dtype == np.uint8 and out.shape == (64, 48, 3)
    assert np.array_equal(out, np.repeat(gray[..., None], 3, axis=2))


def test_full_influence_shows_the_top_colour_at_the_chosen_opacity() -> None:
    pixels = np.zeros((8, 8), np.float32)
    out = blend(pixels, np.ones_like(pixels), opacity=1.0)
    assert np.array_equal(out[0, 0], colour_lut()[255])
    half = blend(pixels, np.ones_like(pixels), opacity=0.5)
    assert np.allclose(half[0, 0], colour_lut()[255] / 2, atol=1)


def test_bad_values_are_clipped_not_wrapped() -> None:
    heat = np.array([[np.nan, -1.0, 2.0, 0.5]], np.float32)
    assert np.array_equal(colourise(heat)[0, :3], colour_lut()[[0, 0, 255]])
    assert to_gray_uint8(np.array([1.5, -0.5], np.float32)).tolist() == [255, 0]


def test_shapes_must_match() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        blend(np.zeros((4, 5), np.float32), np.zeros((5, 4), np.float32))


def test_the_heatmap_is_drawn_in_proportion_to_a_score_below_the_threshold() -> None:
    from pneumo_desktop.core.heatmap_render import score_strength

    assert score_strength(0.001, 0.705) < 0.01  # a 0.1 % film: nothing that could pass for a finding
    assert score_strength(0.35, 0.7) == 0.5
    assert score_strength(0.7, 0.7) == 1.0 and score_strength(0.99, 0.7) == 1.0
    assert score_strength(None, 0.7) == 0.0
