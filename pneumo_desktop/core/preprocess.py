"""THE preprocessing definition, shared by training and the app.

The whole image is squashed to a square (aspect ignored: two thirds of the training copies exist only as
224x224 squashed images), then standardised per image. Per-image standardisation removes the global
exposure/contrast differences between hospitals' exports, which is the largest train->test shift here.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

DEFAULT_SIZE = 224
RESAMPLE = "bilinear"  # Pillow's antialiased bilinear (filter support scales with the reduction)
NORMALISATION = "per_image_standardise"
_EPS = 1e-3


def resize_square(pixels: np.ndarray, size: int = DEFAULT_SIZE) -> np.ndarray:
    """Squash a float32 [0, 1] image to ``size``x``size`` with antialiased bilinear resampling."""
    if pixels.shape == (size, size):
        return pixels.astype(np.float32, copy=False)
    img = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.float32), mode="F")
    return np.asarray(img.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)


def standardise(square: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance per image (works on (..., H, W) arrays)."""
    mean = square.mean(axis=(-2, -1), keepdims=True)
    std = square.std(axis=(-2, -1), keepdims=True)
    return ((square - mean) / (std + _EPS)).astype(np.float32)


def preprocess(pixels: np.ndarray, size: int = DEFAULT_SIZE) -> np.ndarray:
    """Image (H, W) float32 in [0, 1] -> model input (1, size, size) float32."""
    if pixels.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale image, got shape {pixels.shape}")
    return standardise(resize_square(pixels, size))[None]
