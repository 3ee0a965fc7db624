"""``pneumo-train evaluate``: metrics of a model card's weights on a split, through the app's own code path.

Images go through ``core.scoring.read_for_model`` and ``Predictor.predict_batch`` exactly as in the app, so any
preprocessing drift between training and the app shows up here. Every read of the test split is appended to
a committed ledger.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from pneumo_desktop.core.atomic import atomic_write_text
from pneumo_desktop.core.model_card import CARD_FILENAME, ModelCard
from pneumo_desktop.core.predictor import Predictor
from pneumo_desktop.core.scoring import read_for_model
from training.card_markdown import write_model_card_md
from training.data import read_items
from training.metrics import metrics_with_ci
from training.plots import write_plots

SUMMARY_KEYS = ("roc_auc", "accuracy", "sensitivity", "specificity", "ece")


def score_split(predictor: Predictor, data_root: Path, split: str, batch: int = 64
                ) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    items = read_items(data_root, split)
    paths, probs, labels, rejected = [], [], [], []
    for start in range(0, len(items), batch):
        chunk = items[start:start + batch]
        images = [read_for_model(Path(data_root) / it.relpath, predictor.size) for it in chunk]
        for it, pred in zip(chunk, predictor.predict_batch(images), strict=True):
            if pred.probability is None:
                rejected.append(it.relpath)
                continue
            paths.append(it.relpath)
            probs.append(pred.probability)
            labels.append(it.label)
    return paths, np.array(probs), np.array(labels), rejected


def evaluate(card_path: Path, data_root: Path, split: str, out: Path | None, write_card: bool,
             ledger: Path) -> int:
    card_dir = Path(card_path).parent
    predictor = Predictor.load(card_dir)
    card = predictor.card
    paths, probs, labels, rejected = score_split(predictor, data_root, split)
    metrics = metrics_with_ci(probs, labels, card.threshold)
    metrics["gate_rejected"] = len(rejected)
    metrics["split"] = split
    out = Path(out) if out else card_dir / f"eval_{split}"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    with open(out / "predictions.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "probability"])
        w.writerows(zip(paths, labels.tolist(), [f"{p:.6f}" for p in probs], strict=True))
    write_plots(probs, labels, card.threshold, out / "plots", f"{split} (n={len(labels)})")
    for key in SUMMARY_KEYS:
        m = metrics[key]
        print(f"{key:12s} {m['value']:.4f}  95% CI [{m['ci95'][0]:.4f}, {m['ci95'][1]:.4f}]")
    print(f"confusion    {metrics['confusion_matrix']}  gate-rejected {len(rejected)}")
    if split == "test":
        _append_ledger(ledger, card, metrics)
        if write_card:
            card.metrics["test"] = metrics
            card.write(card_dir / CARD_FILENAME)
            write_model_card_md(card_dir)
            print(f"test metrics written to {card_dir / CARD_FILENAME}", file=sys.stderr)
    return 0


def _append_ledger(ledger: Path, card: ModelCard, metrics: dict) -> None:  # type: ignore[type-arg]
    new = not ledger.exists()
    ledger.parent.mkdir(parents=True, exist_ok=True)
    with open(ledger, "a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if new:
            w.writerow(["date_utc", "model", "weights_sha256", "n", *SUMMARY_KEYS])
        w.writerow([datetime.now(UTC).isoformat(timespec="seconds"), card.display_name,
                    card.weights_sha256, metrics["n"], *(metrics[k]["value"] for k in SUMMARY_KEYS)])
