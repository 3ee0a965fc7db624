"""Classification metrics with bootstrap 95 % confidence intervals."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from training.calibration import expected_calibration_error


def point_metrics(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    pred = probabilities >= threshold
    pos, neg = labels == 1, labels == 0
    tp, fn = int(np.sum(pred & pos)), int(np.sum(~pred & pos))
    tn, fp = int(np.sum(~pred & neg)), int(np.sum(pred & neg))
    sens = tp / max(tp + fn, 1)
    spec = tn / max(tn + fp, 1)
    prec = tp / max(tp + fp, 1)
    both = bool(pos.any() and neg.any())
    return {
        "accuracy": (tp + tn) / max(len(labels), 1),
        "precision": prec,
        "sensitivity": sens,
        "specificity": spec,
        "f1": 2 * prec * sens / max(prec + sens, 1e-12),
        "roc_auc": float(roc_auc_score(labels, probabilities)) if both else float("nan"),
        "pr_auc": float(average_precision_score(labels, probabilities)) if both else float("nan"),
        "ece": expected_calibration_error(probabilities, labels),
    }


def confusion(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, int]:
    pred = probabilities >= threshold
    return {
        "tn": int(np.sum(~pred & (labels == 0))), "fp": int(np.sum(pred & (labels == 0))),
        "fn": int(np.sum(~pred & (labels == 1))), "tp": int(np.sum(pred & (labels == 1))),
    }


def metrics_with_ci(probabilities: np.ndarray, labels: np.ndarray, threshold: float,
                    n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Each metric as {"value", "ci95": [lo, hi]} (percentile bootstrap, resampling images)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    point = point_metrics(probabilities, labels, threshold)
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {k: [] for k in point}
    n = len(labels)
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        if labels[idx].min() == labels[idx].max():
            continue
        for k, v in point_metrics(probabilities[idx], labels[idx], threshold).items():
            samples[k].append(v)
    out: dict[str, Any] = {}
    for k, v in point.items():
        s = np.array(samples[k])
        lo, hi = (np.percentile(s, [2.5, 97.5]) if s.size else (float("nan"), float("nan")))
        out[k] = {"value": round(float(v), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)]}
    cm = confusion(probabilities, labels, threshold)
    out["confusion_matrix"] = cm
    out["n"] = int(n)
    out["threshold"] = float(threshold)
    return out
