"""Fitting the gate so that ordinary chest films pass and what the model cannot read does not.

Two signals (measured against each other on real CT/MR slices, lateral films, other radiographs and package
images, and on every shifted variant of the validation originals: models/MODEL_CARD_NOTES.md):

- the orientation head's confidence: ``min_orientation_confidence`` is the lowest 1 % quantile over the
  ordinary variations of the validation originals (the gate's tuning half of patients);
- the Mahalanobis distance of the pooled features to the clean training films and their mirrors (Ledoit-Wolf):
  ``threshold``
  (refuse) is REFUSE_MARGIN x the highest 0.99 quantile over those variations; ``warn_threshold`` is
  WARN_MARGIN x the 0.99 quantile of the clean validation films, below the refuse threshold.

The report half of the validation patients, and the external images' report halves, are left to
benchmarks/gate_ood.py.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import torch

from pneumo_desktop.core.gate import turn_confidence
from training.engine import forward_all

QUANTILE = 0.99
REFUSE_MARGIN, WARN_MARGIN = 1.05, 1.1


def gate_half(patient_id: str) -> int:
    """0: the gate's tuning half of validation patients, 1: its report half (fixed by the id's hash)."""
    return int(hashlib.sha256(patient_id.encode()).hexdigest()[-1], 16) % 2


def mahalanobis(embed: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> np.ndarray:
    d = embed - mean
    return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", d, precision, d), 0))


def _confidence(orientation_probs: np.ndarray | None) -> np.ndarray | None:
    """The gate's orientation confidence (core.gate.turn_confidence: the likeliest turn, mirrored or not)."""
    if orientation_probs is None:
        return None
    return turn_confidence(orientation_probs).max(axis=1)


def fit_gate(model: torch.nn.Module, train_px: np.ndarray, clean_val_px: np.ndarray,
             variants: dict[str, np.ndarray]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``variants``: each shifted variant of the tuning half's validation originals, (N, S, S) in [0, 1]."""
    from sklearn.covariance import LedoitWolf

    # The training films and their left-right mirrors: a mirrored film (wrong side marker, dextrocardia) must be
    # scored with a warning, not refused for looking unlike the training films.
    _, train_embed, _ = forward_all(model, train_px)
    _, mirror_embed, _ = forward_all(model, np.ascontiguousarray(train_px[:, :, ::-1]))
    lw = LedoitWolf().fit(np.concatenate([train_embed, mirror_embed]).astype(np.float64))
    mean, precision = lw.location_, lw.precision_
    _, clean_embed, clean_orient = forward_all(model, clean_val_px)
    clean = mahalanobis(clean_embed, mean, precision)
    worst_distance, confidences = float(np.quantile(clean, QUANTILE)), [_confidence(clean_orient)]
    for pixels in variants.values():
        if len(pixels):
            _, embed, orient = forward_all(model, pixels)
            worst_distance = max(worst_distance, float(np.quantile(mahalanobis(embed, mean, precision), QUANTILE)))
            confidences.append(_confidence(orient))
    refuse = worst_distance * REFUSE_MARGIN
    warn = min(float(np.quantile(clean, QUANTILE)) * WARN_MARGIN, refuse / 1.05)
    present = [c for c in confidences if c is not None and len(c)]
    min_confidence = min(float(np.quantile(c, 1 - QUANTILE)) for c in present) if present else 0.0
    arrays = {"mean": torch.from_numpy(mean).float(), "precision": torch.from_numpy(precision).float()}
    params = {
        "method": "mahalanobis_pooled_features + orientation_confidence",
        "fitted_on": "clean training films and their left-right mirrors (patient-level validation patients excluded)",
        "threshold": round(refuse, 4),
        "warn_threshold": round(warn, 4),
        "min_orientation_confidence": round(min_confidence, 4),
        "threshold_rule": f"refuse past {REFUSE_MARGIN} x the highest {QUANTILE} quantile of the distances of any "
                          "shifted variant of the validation originals (gate tuning half); warn past "
                          f"{WARN_MARGIN} x the {QUANTILE} quantile of clean validation films; orientation "
                          f"confidence at least the lowest {1 - QUANTILE:.2f} quantile over those variants",
        # An inverted retry must land below the warn threshold (a third below the refuse one), never at the edge.
        "inversion_margin": 1.0,
        "val_distance_median": float(np.median(clean)),
        "arrays": ["ood.mean", "ood.precision"],
    }
    return arrays, params
