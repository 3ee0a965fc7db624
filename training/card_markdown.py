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


def _get(d: dict[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def _recipe(card: dict[str, Any]) -> list[str]:
    cfg, arch = card.get("config") or {}, card["architecture"]
    lines = []
    if arch["name"] == "pneumo_ensemble":
        members = arch["arguments"]["members"]
        names = cfg.get("member_names") or [f"member {i}" for i in range(len(members))]
        lines.append(f"- An ensemble of {len(members)} `pneumo_resnet` members (mean logit; Grad-CAM = mean of the "
                     "members' maps; gate embedding = the members' stage-2 channel means side by side):")
        for name, args in zip(names, members, strict=False):
            lines.append(f"  - `{name}`: {args}")
    else:
        lines.append(f"- `{arch['name']}` {arch['arguments']}: a small residual CNN trained from scratch.")
    lines.append("- Heads: one pneumonia logit and, where `orientation_classes` = 8, an orientation head trained "
                 "self-supervised beside it (which of the 8 flips/turns makes the film upright).")
    if cfg.get("epochs"):
        lines.append(f"- {cfg['epochs']} epochs, AdamW (lr {cfg.get('lr')}, weight decay {cfg.get('weight_decay')}), "
                     f"one-cycle schedule, batch {cfg.get('batch_size')}, positive-class weight n_neg/n_pos, "
                     f"orientation loss weight {cfg.get('orientation_weight', 0)}, label smoothing "
                     f"{cfg.get('label_smoothing', 0)}.")
    aug = cfg.get("augment")
    if aug:
        lines.append(f"- Augmentation: rotation ±{aug['rotation_deg']}°, scale {aug['scale']}, aspect ±{aug['aspect']:.0%}, "
                     f"shift ±{aug['shift']:.0%}, gamma {aug['gamma']}, contrast {aug['contrast']}, blur, noise; "
                     f"film features: collimation borders p={aug.get('border_p', 0)}, burned-in labels "
                     f"p={aug.get('label_p', 0)}, edge enhancement p={aug.get('unsharp_p', 0)}; no horizontal flips.")
    lines.append("- Selection: each member's epoch was chosen on the **held-out shifted validation** (mean ROC AUC "
                 "over shifts never used in training: crop 15 %, gamma 0.45 / 2.2, histogram equalisation, JPEG q15, "
                 "96-px resolution, blur, noise, ±12°), not on the saturated clean validation.")
    return lines


def render(card: dict[str, Any], training_minutes: float | None = None, extra: str = "") -> str:
    cfg, out, pop = card.get("config") or {}, card["output"], card["intended_population"]
    val, test = card["metrics"].get("validation") or {}, card["metrics"].get("test")
    history = card["metrics"].get("training_history") or []
    seconds = sum(float(h.get("seconds") or h.get("train_seconds") or 0) for h in history)
    minutes = training_minutes if training_minutes is not None else seconds / 60
    ood = card.get("ood") or {}
    site = card.get("site_calibration")
    parts = [
        f"# Model card: {card['name']} {card['version']}",
        "",
        "**Assistive only.** The probability supports a qualified clinician reading the image; it is not a "
        "diagnosis and must not be used to rule pneumonia in or out on its own.",
        "",
    ]
    if site:
        parts += [
            f"## Site calibration: {site['site_name']} ({site['date_utc']})",
            f"Temperature and threshold refitted on {site['n_per_class']} local films (sensitivity target "
            f"{site['target_sensitivity']}); base model fingerprint `{site['base_model_fingerprint']}`. "
            "Metrics after calibration are measured on the films it was fitted on.",
            "", "### Before", _table(site["metrics_before"]), "", "### After", _table(site["metrics_after"]), "",
        ]
    parts += [
        "## Intended use",
        f"- Population: {pop['description']}",
        f"- Ages {pop['age_years'][0]}–{pop['age_years'][1]} years; views {', '.join(pop['views'])}; "
        f"modalities {', '.join(pop['modalities'])}.",
        f"- Not for: {', '.join(pop.get('not_for', []))}.",
        "- What the app refuses instead of scoring (the gate): colour images; DICOM modalities other than "
        "projection radiographs (`not_radiograph`), lateral view positions (`not_frontal`), a body part that is "
        "clearly not the chest (`body_part_not_chest`) — a missing tag never refuses; images under 64 px; films the "
        "orientation head cannot read with confidence (`not_upright` when its best guess is a turn, else "
        "`out_of_distribution`; CT/MR slices, laterals and screenshots end here); and images whose CNN features lie far "
        f"from the training films (Mahalanobis distance > {_get(ood, 'threshold', default=float('nan')):.1f}, "
        f"`out_of_distribution`; {ood.get('threshold_rule', '')}).",
        f"- What it scores with a warning: distance above {_get(ood, 'warn_threshold', default=float('nan')):.1f} "
        "(\"unusual image\"), a film confidently read as rotated or upside down (scored turned upright), a film "
        "read as mirrored left-right (scored as displayed), a negative scored inverted (only when clearly inside).",
        "",
        "## Data and splits",
        "Kermany et al. 2018 paediatric chest X-rays (Guangzhou Women and Children's Medical Center), official split: "
        "train 5,216 / val 16 / test 624. Validation for checkpoint choice, temperature and threshold is a "
        f"**patient-level** {cfg.get('val_fraction', 0.1):.0%} split of the official training split (seed "
        f"{cfg.get('seed')}). The official 16-image val split is too small and is not used; the official test split "
        "was read only by `pneumo-train evaluate` (see `test_ledger.csv`).",
        f"Data fingerprint (sha256 over sorted `relpath,sha256` of the files read): `{card['data_fingerprint']}`.",
        "",
        "## Model and recipe",
        *_recipe(card),
        f"- Input: the whole image squashed to {card['preprocess']['size']}×{card['preprocess']['size']} "
        f"({card['preprocess']['resample']}), standardised per image.",
        f"- Temperature {out['temperature']:.3f} and threshold {out['threshold']:.4f} (sensitivity ≥ "
        f"{cfg.get('target_sensitivity', 0.95)}) fitted on {val.get('calibrated_on', 'validation')}; the "
        "temperature is bounded to [0.5, 20] (clean validation is separable and once drove it to 0.05).",
        f"- Training time: {minutes:.1f} min of epochs in all (members: `training_history` in the JSON card; the "
        "notes below say on which machine).",
        f"- Model fingerprint (sha256 of `model.safetensors`, which also pins this card's decision fields): "
        f"`{card['weights_sha256']}`; git commit `{card['git_commit']}`.",
        "",
        "## Test metrics (official 624-image test split, read once per shipped model)",
        _table(test) if test else "_Not yet evaluated on the test split._",
        "",
        "![ROC](eval_test/plots/roc.png) ![PR](eval_test/plots/pr.png) "
        "![Reliability diagram](eval_test/plots/calibration.png) ![Confusion](eval_test/plots/confusion.png)"
        if test else "",
        "",
        "## Validation metrics",
    ]
    for kind, metrics in val.items():
        if isinstance(metrics, dict) and "roc_auc" in metrics:
            parts += [f"### {kind}", _table(metrics), ""]
    variants = val.get("shifted_variants") or {}
    if variants:
        parts += ["### Shifted validation, per variant (validation originals; temperature and threshold as shipped)",
                  "| variant | family | ROC AUC | sensitivity | specificity | ECE |", "|---|---|---:|---:|---:|---:|"]
        for name, v in variants.items():
            parts.append(f"| {name} | {v['family']} | {v['roc_auc']:.4f} | {v['sensitivity']:.3f} | "
                         f"{v['specificity']:.3f} | {v['ece']:.3f} |")
        parts.append("")
    parts += [
        "## Known limits",
        "- One centre, children aged 1–5: expect lower accuracy on adults, other hospitals, other devices.",
        "- Frontal views only. The gate was measured on the few public lateral films, CT/MR slices and other "
        "radiographs we could find (benchmarks/gate_ood.py); it catches many, not all.",
        "- Two thirds of the training images exist only as 224×224 aspect-distorted copies; the test split is all "
        "full-resolution originals, a shift that mostly costs specificity and calibration.",
        "- Validation (clean and shifted) is near-saturated for every candidate: it could rank recipes only weakly.",
        "- Labels are the dataset's (bacterial and viral pneumonia vs normal); other findings are not modelled.",
        "- The heatmap (Grad-CAM) shows regions that influenced the score, not lesion outlines.",
        "",
        "## Reproduce",
        "```bash",
        "pneumo-train fit --data <chest_xray dir> --out runs/r1 --device auto      # one member, CPU or CUDA",
        "# the shipped ensemble: members trained side by side on a GPU (docs/training_gpu.md), then",
        "pneumo-train assemble --sweep runs/sweep1 --members <names> --data <chest_xray dir> --out runs/v2",
        "pneumo-train export runs/v2 --to models/ --force",
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
