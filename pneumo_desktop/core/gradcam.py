"""Grad-CAM without autograd, and its registration onto the film.

For a network that ends in global-average-pool + linear head, the Grad-CAM channel weight (the mean gradient of
the logit over the CAM layer's cells) is the channel's head weight divided by the number of cells (and by the
number of members, for an ensemble's mean logit). Each member's map is normalised to its own peak, so those
constant factors cancel: the map is the class activation map ReLU(sum_c w_c A_c) / peak, computed from the
feature maps the runtime returns. tests/training/test_runtime_parity.py proves it equal to the autograd Grad-CAM
(training/gradcam.py) on the torch model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# A map with no positive cell stays all zero instead of dividing by zero.
_TINY_PEAK = 1e-12


def class_activation_maps(features: Sequence[np.ndarray], head_weights: Sequence[np.ndarray]) -> np.ndarray:
    """(N, h, w) in [0, 1]: the mean over members of each member's peak-normalised ReLU(sum_c w_c A_c).

    ``features``: each member's CAM-layer output (N, C, h, w); ``head_weights``: its head's weights (C,)."""
    maps = []
    for activation, weights in zip(features, head_weights, strict=True):
        cam = np.maximum(np.einsum("nchw,c->nhw", activation, weights.astype(np.float32)), 0.0)
        peak = np.maximum(cam.reshape(len(cam), -1).max(axis=1), _TINY_PEAK)[:, None, None]
        maps.append(cam / peak)
    return np.mean(maps, axis=0).astype(np.float32)


def _bilinear_taps(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source cells and weights of torch's bilinear resize (align_corners=False): half-pixel centres, the
    coordinate clamped at 0 so the border cells are held flat."""
    scale = np.float32(size_in / size_out)
    src = np.maximum((np.arange(size_out, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5), 0)
    low = np.minimum(src.astype(np.int64), size_in - 1)
    high = np.minimum(low + 1, size_in - 1)
    return low, high, (src - low).astype(np.float32)


def upsample_cam(cam: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Map a low-resolution CAM onto the original image geometry (rows, cols).

    The model saw the whole image squashed to a square, so CAM cell (i, j) covers the same fraction of the
    original image; bilinear with half-pixel centres (align_corners=False) keeps cell centres registered. Rows
    first, then columns: the intermediate is (rows, w), a few columns wide, so a 2k film costs one full-size pass.
    """
    cam = np.asarray(cam, dtype=np.float32)
    r0, r1, rf = _bilinear_taps(cam.shape[0], shape[0])
    c0, c1, cf = _bilinear_taps(cam.shape[1], shape[1])
    rows = cam[r0] * (1 - rf)[:, None] + cam[r1] * rf[:, None]
    out = rows[:, c0] * (1 - cf) + rows[:, c1] * cf
    return np.clip(out, 0.0, 1.0, out=out)
