"""The one small picture of a scored file: the window's study list and both batch PDFs (window and CLI)
embed this same thumbnail, so the two PDFs of one folder show the same pictures."""

from __future__ import annotations

import numpy as np
from PIL import Image

from pneumo_desktop.core.heatmap_render import to_gray_uint8

THUMB_SIDE = 160  # pixels kept per file: kilobytes, not megabytes, for a batch of thousands


def fit_within(image: Image.Image, max_side: int) -> Image.Image:
    scale = max_side / max(image.size)
    if scale >= 1.0:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def thumbnail_of(pixels: np.ndarray, max_side: int = THUMB_SIDE) -> np.ndarray:
    """A small uint8 copy of an image's pixels; the full image is not kept."""
    return np.asarray(fit_within(Image.fromarray(to_gray_uint8(pixels)), max_side))
