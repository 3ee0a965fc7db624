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


def orient(x: np.ndarray, index: int) -> np.ndarray:
    """Apply ORIENTATIONS[index] to (..., H, W); rot90 turns counter-clockwise as numpy.rot90 does.

    Returns a view: the runtime makes it contiguous when it needs to."""
    if index < 4:
        return np.rot90(x, index, axes=(-2, -1))
    return np.rot90(x[..., ::-1], MIRROR_TURN[index], axes=(-2, -1))


def inverse_orientation(index: int) -> int:
    """The index that undoes ORIENTATIONS[index] (rotations invert to the opposite turn; flips to themselves)."""
    return {1: 3, 3: 1}.get(index, index)
