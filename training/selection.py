"""The selection signal: what a candidate (an epoch, a recipe) is chosen on — validation data only.

Clean validation is saturated (AUC 1.000 on the training hospital's films), so the score that ranks
candidates is the mean ROC AUC over the HELD_OUT shifted variants of the validation originals
(training/shifted.py), with the clean validation log-loss reported beside it. The test split is never read here.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.preprocess import resize_square
from training.calibration import expected_calibration_error, fit_temperature, threshold_for_sensitivity
from training.data import Item
from training.engine import forward_all
from training.shifted import ALL_VARIANTS, EVERYDAY, HELD_OUT, variants_of

Shifted = dict[str, tuple[np.ndarray, np.ndarray]]  # variant -> ((N, S, S) float16, labels)


def build_shifted(root: Path, items: list[Item], size: int, names: list[str] | None = None,
                  threads: int = 2) -> Shifted:
    """Every variant of every item (the validation originals), decoded by the app's loader, at model size."""
    names = names or list(ALL_VARIANTS)

    def one(item: Item) -> dict[str, np.ndarray]:
        pixels = load_image(Path(root) / item.relpath).pixels
        return {k: resize_square(v, size).astype(np.float16)
                for k, v in variants_of(pixels, item.relpath, names).items()}

    with ThreadPoolExecutor(max_workers=threads) as pool:
        decoded = list(pool.map(one, items))
    labels = np.array([i.label for i in items], np.int64)
    return {name: (np.stack([d[name] for d in decoded]), labels) for name in names}


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    return float(roc_auc_score(y, s)) if len(set(y.tolist())) == 2 else float("nan")


def _logloss(y: np.ndarray, logits: np.ndarray, temperature: float = 1.0) -> float:
    z = np.clip(logits / temperature, -60, 60)
    return float(np.mean(np.logaddexp(0, z) - y * z))


def selection_metrics(model: torch.nn.Module, val_px: np.ndarray, y_val: np.ndarray, shifted: Shifted,
                      clean_original: np.ndarray | None = None, device: torch.device | None = None,
                      target_sensitivity: float = 0.95) -> dict[str, Any]:
    """Clean validation log-loss/AUC and, per shifted variant, AUC, specificity and ECE at the clean threshold.

    Temperature and threshold come from the clean validation originals (``clean_original`` mask), as the
    shipped card does, so the shifted figures show what a site would see with the card unchanged.
    """
    logits, _, _ = forward_all(model, val_px, device=device)
    mask = clean_original if clean_original is not None else np.ones(len(y_val), bool)
    temperature = fit_temperature(logits[mask], y_val[mask])
    probs = 1.0 / (1.0 + np.exp(-np.clip(logits / temperature, -60, 60)))
    threshold = threshold_for_sensitivity(probs[mask], y_val[mask], target_sensitivity)
    out: dict[str, Any] = {"val_auc": _auc(y_val, logits), "val_logloss": _logloss(y_val, logits),
                           "temperature": temperature, "threshold": threshold, "variants": {}}
    for name, (px, y) in shifted.items():
        z, _, _ = forward_all(model, px, device=device)
        p = 1.0 / (1.0 + np.exp(-np.clip(z / temperature, -60, 60)))
        pred = p >= threshold
        out["variants"][name] = {
            "auc": _auc(y, z),
            "sensitivity": float(pred[y == 1].mean()) if (y == 1).any() else float("nan"),
            "specificity": float((~pred[y == 0]).mean()) if (y == 0).any() else float("nan"),
            "ece": expected_calibration_error(p, y),
            "logloss": _logloss(y, z, temperature),
        }
    held = [v for k, v in out["variants"].items() if k in HELD_OUT]
    every = [v for k, v in out["variants"].items() if k in EVERYDAY]
    for prefix, group in (("held_out", held), ("everyday", every)):
        if group:
            for key in ("auc", "specificity", "sensitivity", "ece", "logloss"):
                out[f"{prefix}_{key}"] = float(np.mean([g[key] for g in group]))
    out["selection_score"] = out.get("held_out_auc", out["val_auc"])
    return out
