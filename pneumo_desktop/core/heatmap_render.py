"""The one colour map and blend for Grad-CAM heatmaps: CLI PNGs, PDF reports and the GUI overlay.

Viridis is perceptually uniform and readable with the common colour-vision deficiencies and in gray
print, unlike the rainbow "jet" most Grad-CAM tools use. The map is rebuilt from 17 anchors of
matplotlib's table (max error under 6/255) so the runtime needs no matplotlib.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

COLOUR_MAP_NAME = "viridis"
DEFAULT_OPACITY = 0.5
_ANCHORS = np.array(
    [
        (68, 1, 84), (72, 24, 106), (71, 45, 123), (66, 64, 134), (59, 82, 139), (51, 99, 141),
        (44, 114, 142), (38, 130, 142), (33, 145, 140), (31, 159, 136), (39, 173, 129), (61, 188, 116),
        (92, 200, 99), (129, 211, 77), (170, 220, 50), (213, 226, 26), (253, 231, 37),
    ],
    dtype=np.float64,
)


def scored_view(image: Any, prediction: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """The film (``image`` a LoadedImage) and its heatmap as they were scored: turned as the reader showed it
    for Score as Displayed (the heatmap is registered to the stored film and turns with it), else as stored.
    The DICOM heatmap capture draws this; the PDF turns its smaller copy the same way (scored_heatmap)."""
    from pneumo_desktop.core.orientation import orient

    displayed = getattr(prediction, "displayed", None)
    pixels = np.ascontiguousarray(orient(image.pixels, displayed)) if displayed else image.pixels
    return pixels, scored_heatmap(prediction, pixels.shape)


def scored_heatmap(prediction: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """The heatmap for a film of ``shape`` (rows, cols) as it was scored (turned for Score as Displayed)."""
    from pneumo_desktop.core.orientation import orient

    displayed = getattr(prediction, "displayed", None)
    rows, cols = int(shape[0]), int(shape[1])
    swapped = bool(displayed) and displayed in (1, 3, 6, 7)  # quarter turns swap rows and columns
    heatmap = prediction.heatmap((cols, rows) if swapped else (rows, cols))
    if heatmap is None or not displayed:
        return heatmap
    return np.ascontiguousarray(orient(heatmap, displayed))


def colour_lut() -> np.ndarray:
    """(256, 3) uint8: row i is the colour of heatmap value i / 255 (also the GUI legend)."""
    at = np.linspace(0.0, 1.0, len(_ANCHORS))
    xs = np.linspace(0.0, 1.0, 256)
    table = np.stack([np.interp(xs, at, _ANCHORS[:, c]) for c in range(3)], axis=1)
    return np.round(table).astype(np.uint8)


_LUT = colour_lut()


def to_gray_uint8(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] float image -> uint8 (values outside [0, 1] and NaN are clipped, never wrapped)."""
    clean = np.nan_to_num(np.asarray(pixels, dtype=np.float32), nan=0.0)
    return np.round(np.clip(clean, 0.0, 1.0) * 255.0).astype(np.uint8)


def score_strength(probability: float | None, threshold: float) -> float:
    """How strongly the heatmap is drawn: in full from the decision threshold up, in proportion to the score
    below it. Grad-CAM is normalised per image, so a film scored 0.1 % still had a full-strength yellow
    region (often the neck or a costophrenic angle) that a reader could take for a finding."""
    if probability is None or not np.isfinite(probability) or threshold <= 0:
        return 0.0
    return float(np.clip(probability / threshold, 0.0, 1.0))


def colourise(heatmap: np.ndarray) -> np.ndarray:
    """Heatmap in [0, 1], shape (H, W) -> RGB uint8 (H, W, 3) through the colour map."""
    return _LUT[to_gray_uint8(heatmap)]


def blend(pixels: np.ndarray, heatmap: np.ndarray, opacity: float = DEFAULT_OPACITY) -> np.ndarray:
    """The image in gray with the coloured heatmap over it, RGB uint8 (H, W, 3).

    Each pixel's opacity scales with its heatmap value, so regions that barely influenced the score
    stay plain gray and the anatomy under them stays readable.
    """
    if pixels.shape != heatmap.shape:
        raise ValueError(f"image {pixels.shape} and heatmap {heatmap.shape} differ in shape")
    gray = to_gray_uint8(pixels).astype(np.float32)[..., None]
    colour = colourise(heatmap).astype(np.float32)
    weight = np.clip(np.nan_to_num(heatmap.astype(np.float32)), 0.0, 1.0)[..., None]
    alpha = float(np.clip(opacity, 0.0, 1.0)) * weight
    return np.round(gray * (1.0 - alpha) + colour * alpha).astype(np.uint8)


def blend_image(pixels: np.ndarray, heatmap: np.ndarray, opacity: float = DEFAULT_OPACITY) -> Image.Image:
    return Image.fromarray(blend(pixels, heatmap, opacity))


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
