"""Renders models/MODEL_CARD.md from the JSON card, so the prose never disagrees with the numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

KEYS = (("roc_auc", "ROC AUC"), ("pr_auc", "PR AUC"), ("accuracy", "Accuracy"), ("sensitivity", "Sensitivity"),
        ("specificity", "Specificity"), ("precision", "Precision"), ("f1", "F1"), ("ece", "ECE"))


def _table(metrics: dict[str, Any]) -> str:
    rows = ["| metric | value | 95 % CI |", "|---|---:|---|"]
    for key, name in KEYS:
        m = metrics.get(key)
        if m:
            rows.append(f"| {name} | {m['value']:.3f} | {m['ci95'][0]:.3f} – {m['ci95'][1]:.3f} |")
    cm = metrics.get("confusion_matrix")
    if cm:
        rows.append(f"\nConfusion matrix (n = {metrics['n']}): TN {cm['tn']}, FP {cm['fp']}, FN {cm['fn']}, TP {cm['tp']}.")
    return "\n".join(rows)


def render(card: dict[str, Any], training_minutes: float | None = None, extra: str = "") -> str:
    cfg, out, pop = card["config"], card["output"], card["intended_population"]
    val, test = card["metrics"].get("validation") or {}, card["metrics"].get("test")
    history = card["metrics"].get("training_history") or []
    minutes = training_minutes if training_minutes is not None else sum(h["seconds"] for h in history) / 60
    aug = cfg["augment"]
    parts = [
        f"# Model card: {card['name']} {card['version']}",
        "",
        "**Assistive only.** The probability supports a qualified clinician reading the image; it is not a "
        "diagnosis and must not be used to rule pneumonia in or out on its own.",
        "",
        "## Intended use",
        f"- Population: {pop['description']}",
        f"- Ages {pop['age_years'][0]}–{pop['age_years'][1]} years; views {', '.join(pop['views'])}; "
        f"modalities {', '.join(pop['modalities'])}.",
        f"- Not for: {', '.join(pop.get('not_for', []))}.",
        "- Inputs the app rejects instead of scoring (the gate): colour images, non-CR/DX modalities, lateral views "
        "(from DICOM tags; a missing tag never rejects), images under 64 px, and images whose CNN features lie far from "
        f"the training films (Mahalanobis distance > {card['ood']['threshold']:.1f}; {card['ood']['threshold_rule']}).",
        "",
        "## Data and splits",
        "Kermany et al. 2018 paediatric chest X-rays (Guangzhou Women and Children's Medical Center), official split: "
        "train 5,216 / val 16 / test 624. Validation for checkpoint choice, temperature and threshold is a "
        f"**patient-level** {cfg['val_fraction']:.0%} split of the official training split (seed {cfg['seed']}; "
        "patient ids recorded in the run's `split.json`). The official 16-image val split is too small and is not "
        "used; the official test split was read only by `pneumo-train evaluate` (see `test_ledger.csv`).",
        f"Data fingerprint (sha256 over sorted `relpath,sha256` of the files `fit` read): `{card['data_fingerprint']}`.",
        "",
        "## Model and recipe",
        f"- `{card['architecture']['name']}` {card['architecture']['arguments']}: a small residual CNN, one grayscale "
        "channel in, one logit out, trained from scratch (no pretrained weights).",
        f"- Input: the whole image squashed to {card['preprocess']['size']}×{card['preprocess']['size']} "
        f"({card['preprocess']['resample']}), standardised per image.",
        f"- {cfg['epochs']} epochs, AdamW (lr {cfg['lr']}, weight decay {cfg['weight_decay']}), one-cycle schedule, "
        f"batch {cfg['batch_size']}, positive-class loss weight n_neg/n_pos for the ~1:3 imbalance.",
        f"- Augmentation: rotation ±{aug['rotation_deg']}°, scale {aug['scale']}, aspect ±{aug['aspect']:.0%}, "
        f"shift ±{aug['shift']:.0%}, gamma {aug['gamma']}, contrast {aug['contrast']}, brightness ±{aug['brightness']}, "
        f"blur p={aug['blur_p']}, noise; horizontal flips {'on' if aug['hflip'] else 'off'} (a mirrored chest is not "
        "a plausible radiograph).",
        f"- Checkpoint chosen on validation ROC AUC; temperature {out['temperature']:.3f} and threshold "
        f"{out['threshold']:.3f} (sensitivity ≥ {cfg['target_sensitivity']} on validation) fitted on "
        f"{val.get('calibrated_on', 'validation')}.",
        f"- Training time: {minutes:.1f} min of epochs on this project's 2-core CPU machine "
        "(shared with other work while it ran; see the run log).",
        f"- Weights: `model.safetensors`, sha256 `{card['weights_sha256']}`; git commit `{card['git_commit']}`.",
        "",
        "## Test metrics (official 624-image test split, read once per shipped model)",
        _table(test) if test else "_Not yet evaluated on the test split._",
        "",
        "![ROC](eval_test/plots/roc.png) ![PR](eval_test/plots/pr.png) "
        "![Calibration](eval_test/plots/calibration.png) ![Confusion](eval_test/plots/confusion.png)" if test else "",
        "",
        "## Validation metrics",
    ]
    for kind, metrics in val.items():
        if isinstance(metrics, dict) and "roc_auc" in metrics:
            parts += [f"### {kind}", _table(metrics), ""]
    parts += [
        "## Known limits",
        "- One centre, children aged 1–5: expect lower accuracy on adults, other hospitals, other devices.",
        "- Frontal views only; lateral films, CT, photos of films and colour images are out of scope (the gate "
        "catches many, not all).",
        "- Two thirds of the training images exist only as 224×224 aspect-distorted copies; the test split is all "
        "full-resolution originals, a shift that mostly costs specificity and calibration.",
        "- Labels are the dataset's (bacterial and viral pneumonia vs normal); other findings are not modelled.",
        "- The heatmap (Grad-CAM) shows regions that influenced the score, not lesion outlines.",
        "",
        "## Reproduce",
        "```bash",
        "pneumo-train fit --data <chest_xray dir> --out runs/r1",
        "pneumo-train export runs/r1 --to models/ --force",
        "pneumo-train evaluate --card models/model_card.json --data <chest_xray dir> --split test --write-card",
        "```",
        "",
        "## Data credit (CC BY 4.0)",
        "Kermany D, Zhang K, Goldbaum M. *Labeled Optical Coherence Tomography (OCT) and Chest X-Ray Images for "
        "Classification.* Mendeley Data, v2, doi:10.17632/rscbjbr9sj.2; Kermany DS, Goldbaum M, et al. *Cell* "
        "2018;172(5):1122-1131. Licence CC BY 4.0. The images used here were converted to grayscale, downscaled and "
        "re-encoded (see the data README); the authors do not endorse this project.",
        extra,
    ]
    return "\n".join(parts).rstrip() + "\n"


NOTES_FILENAME = "MODEL_CARD_NOTES.md"


def write_model_card_md(model_dir: Path) -> Path:
    """(Re)write MODEL_CARD.md from model_card.json plus the run's hand-written notes, if the folder has them.

    Every step that changes the card (export, evaluate --write-card, the gate tuning) calls this, so the prose
    never lags the JSON.
    """
    from pneumo_desktop.core.atomic import atomic_write_text
    from pneumo_desktop.core.model_card import CARD_FILENAME

    model_dir = Path(model_dir)
    card = json.loads((model_dir / CARD_FILENAME).read_text(encoding="utf-8"))
    notes = model_dir / NOTES_FILENAME
    extra = notes.read_text(encoding="utf-8") if notes.exists() else ""
    target = model_dir / "MODEL_CARD.md"
    atomic_write_text(target, render(card, extra=extra))
    return target
