"""Temperature scaling and the decision threshold, both fitted on validation only."""

from __future__ import annotations

import numpy as np


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    p = np.clip(_sigmoid(logits / temperature), 1e-7, 1 - 1e-7)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


# Bounds on the temperature. On separable outputs (clean validation of the training hospital) the NLL keeps
# falling as T -> 0, which made the first model's recipe fit T = 0.05: every output 0 or 1. A temperature
# below 0.5 (sharpening a network trained with cross-entropy by more than 2x) is never credible here.
T_MIN, T_MAX = 0.5, 20.0


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """1-D minimisation of the NLL over log T within [T_MIN, T_MAX] (a grid then a refinement: robust, no
    optimiser state). Fit it on outputs that are not separable (the shifted validation), else it sits at T_MIN."""
    grid = np.exp(np.linspace(np.log(T_MIN), np.log(T_MAX), 400))
    losses = [nll(logits, labels, t) for t in grid]
    best = int(np.argmin(losses))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    fine = np.exp(np.linspace(np.log(lo), np.log(hi), 200))
    return float(fine[int(np.argmin([nll(logits, labels, t) for t in fine]))])


def threshold_for_sensitivity(probabilities: np.ndarray, labels: np.ndarray, target: float) -> float:
    """The highest threshold whose sensitivity (p >= threshold counts as positive) is still >= target.

    Highest, because a higher threshold buys specificity; missing pneumonia is the costly error, so the
    sensitivity floor comes first.
    """
    positives = np.sort(probabilities[labels == 1])
    if positives.size == 0:
        return 0.5
    # Allow at most floor((1 - target) * n_pos) positives below the threshold.
    allowed_misses = int(np.floor((1.0 - target) * positives.size + 1e-9))
    threshold = float(positives[allowed_misses])
    return float(np.clip(threshold, 1e-4, 1 - 1e-4))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """ECE of the positive-class probability with equal-width bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            ece += mask.mean() * abs(probabilities[mask].mean() - labels[mask].mean())
    return float(ece)
