"""Fitting the gate's out-of-distribution distance so that ordinary chest films sit inside it.

The first gate was a Gaussian over the *clean* training films' stage-2 features: it refused every validation
film with a 15 % white border, because a collimation border had never been seen. Here the Gaussian is fitted on
the training films and on augmented copies of them (everyday film features and exposure well past the
classifier's augmentation), and the two thresholds come from the validation films, clean and shifted:

- ``warn``: the 0.99 quantile of the clean validation distances x WARN_MARGIN; past it a film is scored with an
  "unusual image" warning;
- ``refuse``: the 0.995 quantile of the shifted validation distances (every variant, the gate's tuning half of
  patients) x REFUSE_MARGIN; past it a film is refused. benchmarks/gate_ood.py reports on the other half.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import torch

from training.augment import augment
from training.engine import forward_all

WARN_QUANTILE, WARN_MARGIN = 0.99, 1.1
REFUSE_QUANTILE, REFUSE_MARGIN = 0.995, 1.15
GATE_AUGMENT: dict[str, Any] = {
    "rotation_deg": 12.0, "scale": [0.8, 1.1], "aspect": 0.15, "shift": 0.08, "gamma": [0.4, 2.5],
    "contrast": [0.6, 1.4], "brightness": 0.1, "blur_p": 0.3, "noise_std": 0.04, "hflip": False,
    "border_p": 0.5, "border_max": 0.2, "label_p": 0.4, "unsharp_p": 0.4,
}


def gate_half(patient_id: str) -> int:
    """0: the gate's tuning half of validation patients, 1: its report half (fixed by the id's hash)."""
    return int(hashlib.sha256(patient_id.encode()).hexdigest()[-1], 16) % 2


def augmented_embeddings(model: torch.nn.Module, pixels: np.ndarray, copies: int, seed: int) -> np.ndarray:
    """Gate embeddings of ``copies`` augmented versions of each image (seeded: the same gate every run)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(copies):
        chunks = []
        for start in range(0, len(pixels), 256):
            x = torch.from_numpy(pixels[start:start + 256].astype(np.float32))[:, None]
            chunks.append(augment(x, GATE_AUGMENT, g)[:, 0].numpy())
        out.append(forward_all(model, np.concatenate(chunks))[1])
    return np.concatenate(out)


def mahalanobis(embed: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> np.ndarray:
    d = embed - mean
    return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", d, precision, d), 0))


def fit_gate(train_embed: np.ndarray, clean_val_embed: np.ndarray, shifted_tune_embed: np.ndarray
             ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Ledoit-Wolf Gaussian on the training embeddings; warn/refuse thresholds from validation distances."""
    from sklearn.covariance import LedoitWolf

    lw = LedoitWolf().fit(train_embed.astype(np.float64))
    mean, precision = lw.location_, lw.precision_
    clean = mahalanobis(clean_val_embed, mean, precision)
    # A smoke run's handful of validation films may leave the tuning half empty: fall back to the clean ones.
    shifted = mahalanobis(shifted_tune_embed if len(shifted_tune_embed) else clean_val_embed, mean, precision)
    warn = float(np.quantile(clean, WARN_QUANTILE) * WARN_MARGIN)
    refuse = max(float(np.quantile(shifted, REFUSE_QUANTILE) * REFUSE_MARGIN), warn * 1.2)
    arrays = {"mean": torch.from_numpy(mean).float(), "precision": torch.from_numpy(precision).float()}
    params = {
        "method": "mahalanobis_stage2_channel_means",
        "fitted_on": "training films (patient-level validation patients excluded), clean and augmented "
                     "(training/gate_fit.py GATE_AUGMENT)",
        "threshold": round(refuse, 4),
        "warn_threshold": round(warn, 4),
        "threshold_rule": f"refuse past {REFUSE_QUANTILE} quantile of shifted-validation distances (gate tuning "
                          f"half) x {REFUSE_MARGIN}; warn past {WARN_QUANTILE} quantile of clean validation x "
                          f"{WARN_MARGIN}",
        "inversion_margin": 0.8,
        "orientation": {"upright_min": 0.5, "correct_min": 0.9},
        "val_distance_median": float(np.median(clean)),
        "arrays": ["ood.mean", "ood.precision"],
    }
    return arrays, params
