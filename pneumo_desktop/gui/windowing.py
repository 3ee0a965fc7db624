"""Display window/level: a view setting only, never the model input (HOUSE_STYLE F7). Qt-free.

Pixels are quantised once (on a worker) to 12 bits; a drag then only rebuilds a 4096-entry lookup table
and does one lookup per pixel, about 6 ms for a 2k radiograph, so W/L stays interactive on the GUI
thread. 12 bits keep smooth gradients even for a window 1/20 of the range wide.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from pneumo_desktop.core.image import WindowPreset

LEVELS = 4096
MIN_WIDTH = 1.0 / 256.0
MAX_WIDTH = 4.0
FULL_RANGE = "Full range"


_CHUNK = 1 << 16  # pixels per step: scratch buffers that stay in the CPU cache instead of 16-32 MB arrays


def _chunks(size: int) -> Iterator[slice]:
    for start in range(0, size, _CHUNK):
        yield slice(start, min(start + _CHUNK, size))


def quantise(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] float image -> uint16 indices in [0, LEVELS), rounded to nearest (NaN, never produced by the
    readers, would become 0). Chunked through one small scratch buffer: 30 % faster on a 2k film than
    whole-array expressions, and no 16 MB temporary."""
    source = np.ascontiguousarray(pixels, dtype=np.float32).reshape(-1)
    levels = np.empty(source.size, dtype=np.uint16)
    scratch = np.empty(min(_CHUNK, source.size), dtype=np.float32)
    for part in _chunks(source.size):
        scaled = scratch[: part.stop - part.start]
        np.multiply(source[part], LEVELS - 1, out=scaled)
        np.clip(scaled, 0.0, LEVELS - 1, out=scaled)
        scaled += 0.5
        levels[part] = scaled  # truncation after +0.5: round half up
    return levels.reshape(pixels.shape)


def full_range(pixels: np.ndarray) -> WindowPreset:
    """The window that spans the data's min..max (Inobitec's "Full dynamic")."""
    lo, hi = (float(np.min(pixels)), float(np.max(pixels))) if pixels.size else (0.0, 1.0)
    if not (np.isfinite(lo) and np.isfinite(hi)):  # only then pay for a filtered copy
        finite = pixels[np.isfinite(pixels)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    width = max(hi - lo, MIN_WIDTH)
    return WindowPreset(FULL_RANGE, (lo + hi) / 2.0, width)


def render(pixels: np.ndarray, center: float, width: float) -> np.ndarray:
    """uint8 display image of a window, straight from the [0, 1] float pixels.

    For the first frame of an image, drawn on the worker before the 12-bit levels exist (they are only
    needed once the user changes the window). Agrees with ``apply(quantise(p), lookup_table(c, w))`` to
    within one gray level."""
    center, width = clamp(center, width)
    low, gain = center - width / 2.0, 255.0 / width
    source = np.ascontiguousarray(pixels, dtype=np.float32).reshape(-1)
    out = np.empty(source.size, dtype=np.uint8)
    scratch = np.empty(min(_CHUNK, source.size), dtype=np.float32)
    for part in _chunks(source.size):
        scaled = scratch[: part.stop - part.start]
        np.subtract(source[part], low, out=scaled)
        scaled *= gain
        np.clip(scaled, 0.0, 255.0, out=scaled)
        scaled += 0.5
        out[part] = scaled
    return out.reshape(pixels.shape)


def clamp(center: float, width: float) -> tuple[float, float]:
    """The level stays inside the data range (a level past it made W/L jump, Weasis #373); the width may grow
    to MAX_WIDTH times the range, as radiologists widen a window to flatten contrast."""
    width = float(min(max(width, MIN_WIDTH), MAX_WIDTH))
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
    """uint8 display image; pass ``out`` to reuse one buffer across a drag.

    ``np.take`` first casts the whole index array to intp (32 MB for a 2k film), which was half its time;
    casting one chunk at a time into a small buffer halves the lookup (12 -> 6 ms)."""
    if out is None or out.shape != quantised.shape or not out.flags.c_contiguous:
        out = np.empty(quantised.shape, dtype=np.uint8)
    source, target = quantised.reshape(-1), out.reshape(-1)
    index = np.empty(min(_CHUNK, source.size), dtype=np.intp)
    for part in _chunks(source.size):
        chunk = index[: part.stop - part.start]
        np.copyto(chunk, source[part])
        np.take(lut, chunk, out=target[part])
    return out


def drag_to_window(center: float, width: float, dx: float, dy: float, span: float) -> tuple[float, float]:
    """Mouse drag (pixels) -> new window, Inobitec/MITK sense: right widens, down raises the level.

    ``span`` is the viewport size in pixels that maps to the full data range, so the feel does not depend
    on the image's bit depth.
    """
    span = max(span, 1.0)
    return clamp(center + dy / span, width + dx / span)
