"""Display window/level: a view setting only, never the model input (HOUSE_STYLE F7). Qt-free.

Pixels are quantised once (on a worker) to 12 bits; a drag then only rebuilds a 4096-entry lookup table
and does one ``np.take``, about 12 ms for a 2446x2010 radiograph, so W/L stays interactive on the GUI
thread. 12 bits keep smooth gradients even for a window 1/20 of the range wide.
"""

from __future__ import annotations

import numpy as np

from pneumo_desktop.core.image import WindowPreset

LEVELS = 4096
MIN_WIDTH = 1.0 / 256.0
FULL_RANGE = "Full range"


def quantise(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] float image -> uint16 indices in [0, LEVELS)."""
    scaled = np.clip(pixels, 0.0, 1.0) * (LEVELS - 1)
    return np.rint(scaled).astype(np.uint16)


def full_range(pixels: np.ndarray) -> WindowPreset:
    """The window that spans the data's min..max (Inobitec's "Full dynamic")."""
    finite = pixels[np.isfinite(pixels)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    width = max(hi - lo, MIN_WIDTH)
    return WindowPreset(FULL_RANGE, (lo + hi) / 2.0, width)


def clamp(center: float, width: float) -> tuple[float, float]:
    """Keep the window inside the data range: a window past it makes W/L jump (Weasis #373)."""
    width = float(min(max(width, MIN_WIDTH), 1.0))
    center = float(min(max(center, 0.0), 1.0))
    return center, width


def lookup_table(center: float, width: float, invert: bool = False) -> np.ndarray:
    levels = np.arange(LEVELS, dtype=np.float32) / (LEVELS - 1)
    low = center - width / 2.0
    out = np.clip((levels - low) / width, 0.0, 1.0)
    if invert:
        out = 1.0 - out
    return np.rint(out * 255.0).astype(np.uint8)


def apply(quantised: np.ndarray, lut: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 display image; pass ``out`` to reuse one buffer across a drag."""
    if out is None or out.shape != quantised.shape:
        out = np.empty(quantised.shape, dtype=np.uint8)
    np.take(lut, quantised, out=out)
    return out


def drag_to_window(center: float, width: float, dx: float, dy: float, span: float) -> tuple[float, float]:
    """Mouse drag (pixels) -> new window, Inobitec/MITK sense: right widens, down raises the level.

    ``span`` is the viewport size in pixels that maps to the full data range, so the feel does not depend
    on the image's bit depth.
    """
    span = max(span, 1.0)
    return clamp(center + dy / span, width + dx / span)
