"""The eight ways a film can be flipped or turned (the dihedral group of the square), on numpy arrays.

The orientation head predicts an index into ORIENTATIONS; the predictor turns a film upright with it. Training
has the same operations on torch tensors (training/network.py); tests/training check that they agree.
"""

from __future__ import annotations

import numpy as np

# As applied to an upright film. Index 0 is upright, 4 is a left-right mirror.
ORIENTATIONS = ("upright", "rot90", "rot180", "rot270", "mirrored", "upside_down", "transposed",
                "antitransposed")
# The turn applied after a left-right mirror, for the four mirrored orientations.
MIRROR_TURN = {4: 0, 5: 2, 6: 1, 7: 3}


# What each index looks like next to the film as stored, in the order a reader would do it (the mirrored ones
# are a left-right flip first, then the turn: orient's own order). The window's label, the PDF and the
# "Scored as displayed" note all say it so.
_DESCRIPTIONS = (
    "as stored", "rotated 90° counter-clockwise", "rotated 180°", "rotated 90° clockwise", "flipped left-right",
    "flipped top-bottom", "flipped left-right, then rotated 90° counter-clockwise",
    "flipped left-right, then rotated 90° clockwise",
)


def describe(index: int) -> str:
    """ORIENTATIONS[index] in words, relative to the film as stored ("flipped left-right, then rotated 90°
    clockwise")."""
    return _DESCRIPTIONS[index]


def orient(x: np.ndarray, index: int) -> np.ndarray:
    """Apply ORIENTATIONS[index] to (..., H, W); rot90 turns counter-clockwise as numpy.rot90 does.

    Returns a view: the runtime makes it contiguous when it needs to."""
    if index < 4:
        return np.rot90(x, index, axes=(-2, -1))
    return np.rot90(x[..., ::-1], MIRROR_TURN[index], axes=(-2, -1))


def inverse_orientation(index: int) -> int:
    """The index that undoes ORIENTATIONS[index] (rotations invert to the opposite turn; flips to themselves)."""
    return {1: 3, 3: 1}.get(index, index)


def orientation_of_view(m11: float, m12: float, m21: float, m22: float) -> int:
    """The ORIENTATIONS index that a viewer's 90-degree turn/flip matrix shows, in Qt's convention
    (x' = m11 x + m21 y, y' = m12 x + m22 y; x = column, y = row, y pointing down). Worked out on a small
    array, so it holds for whichever way the viewer composes its steps."""
    probe = np.arange(6.0).reshape(2, 3)
    rows, cols = probe.shape
    points = [(c * m11 + r * m21, c * m12 + r * m22, probe[r, c]) for r in range(rows) for c in range(cols)]
    xs, ys = sorted({round(p[0]) for p in points}), sorted({round(p[1]) for p in points})
    shown = np.zeros((len(ys), len(xs)))
    for x, y, value in points:
        shown[ys.index(round(y)), xs.index(round(x))] = value
    for index in range(len(ORIENTATIONS)):
        turned = orient(probe, index)
        if turned.shape == shown.shape and np.array_equal(turned, shown):
            return index
    raise ValueError(f"not a 90-degree turn or flip: {(m11, m12, m21, m22)}")
