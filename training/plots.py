"""Evaluation plots (PNG): ROC, precision-recall, reliability diagram, confusion matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_plots(probabilities: np.ndarray, labels: np.ndarray, threshold: float, out: Path, title: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve, roc_curve

    out.mkdir(parents=True, exist_ok=True)
    written = []

    fpr, tpr, _ = roc_curve(labels, probabilities)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(fpr, tpr, color="#0072B2")
    ax.plot([0, 1], [0, 1], ls=":", color="grey")
    pred = probabilities >= threshold
    ax.scatter([np.mean(pred[labels == 0])], [np.mean(pred[labels == 1])], color="#D55E00", zorder=3,
               label=f"threshold {threshold:.3f}")
    ax.set(xlabel="1 - specificity", ylabel="sensitivity", title=f"ROC - {title}")
    ax.legend(loc="lower right")
    written.append(_save(fig, out / "roc.png"))

    precision, recall, _ = precision_recall_curve(labels, probabilities)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(recall, precision, color="#0072B2")
    ax.set(xlabel="recall (sensitivity)", ylabel="precision", title=f"Precision-recall - {title}", ylim=(0, 1.02))
    written.append(_save(fig, out / "pr.png"))

    edges = np.linspace(0, 1, 11)
    idx = np.clip(np.digitize(probabilities, edges[1:-1]), 0, 9)
    centres = [probabilities[idx == b].mean() for b in range(10) if (idx == b).any()]
    observed = [labels[idx == b].mean() for b in range(10) if (idx == b).any()]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], ls=":", color="grey")
    ax.plot(centres, observed, marker="o", color="#009E73")
    ax.set(xlabel="predicted probability", ylabel="observed frequency", title=f"Calibration - {title}")
    written.append(_save(fig, out / "calibration.png"))

    cm = np.array([[np.sum(~pred & (labels == 0)), np.sum(pred & (labels == 0))],
                   [np.sum(~pred & (labels == 1)), np.sum(pred & (labels == 1))]])
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center", color="black" if v < cm.max() / 2 else "white")
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=["NORMAL", "PNEUMONIA"], yticklabels=["NORMAL", "PNEUMONIA"],
           xlabel="predicted", ylabel="true", title=f"Confusion - {title}")
    written.append(_save(fig, out / "confusion.png"))
    return written


def _save(fig, path: Path) -> Path:  # type: ignore[no-untyped-def]
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
