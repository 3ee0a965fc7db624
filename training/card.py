"""Turns the selected network into the shipped artefact: calibration, OOD gate parameters, model card."""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.preprocess import NORMALISATION, RESAMPLE
from training.calibration import expected_calibration_error, fit_temperature, threshold_for_sensitivity
from training.data import Item
from training.engine import forward_all
from training.gate_fit import fit_gate, gate_half
from training.metrics import metrics_with_ci
from training.model_io import save_model
from training.network import ENSEMBLE, PneumoEnsemble, cam_layers_of
from training.selection import Shifted
from training.shifted import HELD_OUT

log = logging.getLogger("pneumo_train")

INTENDED_POPULATION = {
    "description": "Frontal (PA/AP) chest radiographs of children aged 1-5 years, like the training data: "
                   "one centre (Guangzhou Women and Children's Medical Center), retrospective.",
    "age_years": [1, 5],
    "views": ["PA", "AP"],
    "modalities": ["CR", "DX"],
    "not_for": ["adults", "lateral views", "CT or other modalities", "images from other sites without local validation"],
}


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).parent).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@dataclass
class Validation:
    """The patient-level validation films, clean, and the shifted variants of its originals."""

    pixels: np.ndarray
    labels: np.ndarray
    items: list[Item]
    shifted: Shifted  # built on ``originals`` (training/selection.build_shifted)
    originals: list[Item]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def calibrate(model: torch.nn.Module, val: Validation, target_sensitivity: float
              ) -> tuple[float, float, dict[str, Any]]:
    """Temperature and threshold fitted on outputs that are not separable: the clean validation originals
    pooled with ALL their shifted variants (clean validation alone is separable and drove T to 0.05). The
    threshold keeps ``target_sensitivity`` on that pool, so the sensitivity floor also holds for films with
    borders, labels or edge enhancement (with the held-out shifts alone it was 0.88 on those). Selection, by
    contrast, reads only the held-out shifts (training/selection.py)."""
    logits, _, _ = forward_all(model, val.pixels)
    original = np.array([i.source_kind == "original" for i in val.items])
    shifted = {k: forward_all(model, px)[0] for k, (px, _) in val.shifted.items()}
    y_shift = np.array([i.label for i in val.originals])
    held = [k for k in shifted if k in HELD_OUT]
    everyday = [k for k in shifted if k not in HELD_OUT]
    pool_z = np.concatenate([logits[original], *shifted.values()])
    pool_y = np.concatenate([val.labels[original], *([y_shift] * len(shifted))])
    temperature = fit_temperature(pool_z, pool_y)
    threshold = threshold_for_sensitivity(_sigmoid(pool_z / temperature), pool_y, target_sensitivity)
    probs = _sigmoid(logits / temperature)
    kinds = np.array([i.source_kind for i in val.items])
    validation: dict[str, Any] = {"all": metrics_with_ci(probs, val.labels, threshold)}
    for kind in sorted(set(kinds.tolist())):
        m = kinds == kind
        if len(set(val.labels[m].tolist())) == 2:
            validation[kind] = metrics_with_ci(probs[m], val.labels[m], threshold)
    for family, names in (("shifted_held_out", held), ("shifted_everyday", everyday)):
        if names:
            z = np.concatenate([shifted[k] for k in names])
            validation[family] = metrics_with_ci(_sigmoid(z / temperature), np.tile(y_shift, len(names)), threshold)
    validation["calibrated_on"] = (f"{int(original.sum())} clean validation originals + their {len(shifted)} "
                                   f"shifted variants ({len(pool_y)} outputs)")
    variants = {}
    for name, z in shifted.items():
        p = _sigmoid(z / temperature)
        pred = p >= threshold
        variants[name] = {"family": "held_out" if name in HELD_OUT else "everyday",
                          "roc_auc": round(float(roc_auc_score(y_shift, z)), 4),
                          "sensitivity": round(float(pred[y_shift == 1].mean()), 4),
                          "specificity": round(float((~pred[y_shift == 0]).mean()), 4),
                          "ece": round(expected_calibration_error(p, y_shift), 4)}
    validation["shifted_variants"] = variants
    return temperature, threshold, validation


def gate_variants(val: Validation) -> dict[str, np.ndarray]:
    """Every shifted variant of the gate's tuning half of validation originals (training/gate_fit.py)."""
    tune = np.array([gate_half(i.patient_id) == 0 for i in val.originals])
    return {name: px[tune] for name, (px, _) in val.shifted.items()}


def refit_gate(model_dir: Path, data_root: Path, cache_dir: Path | None) -> ModelCard:
    """Refit the gate of an existing model (weights unchanged); the card is re-pinned by a new weights file."""
    from pneumo_desktop.core.model_card import CARD_FILENAME, WEIGHTS_FILENAME
    from pneumo_desktop.core.weights import read_verified
    from training import data as data_mod
    from training.model_io import build_model
    from training.selection import build_shifted

    card = ModelCard.read(model_dir / CARD_FILENAME)
    model = build_model(card, read_verified(model_dir / WEIGHTS_FILENAME, card))
    cfg = card.config
    items = data_mod.read_items(data_root, "train")
    train_items, val_items, _ = data_mod.patient_split(items, float(cfg["val_fraction"]), int(cfg["seed"]))
    size = card.input_size
    train_px = data_mod.decode_all(data_root, train_items, size, cache_dir)[0]
    val_px = data_mod.decode_all(data_root, val_items, size, cache_dir)[0]
    originals = [i for i in val_items if i.source_kind == "original"]
    val = Validation(val_px, np.array([i.label for i in val_items]), val_items,
                     build_shifted(data_root, originals, size), originals)
    arrays, params = fit_gate(model, train_px, val.pixels, gate_variants(val))
    card.ood = params
    card = save_model(model_dir, model, card, arrays)
    log.info("gate refitted: refuse > %.2f, warn > %.2f, orientation confidence >= %.3f", params["threshold"],
             params["warn_threshold"], params["min_orientation_confidence"])
    return card


def architecture_of(model: torch.nn.Module, config: dict[str, Any]) -> dict[str, Any]:
    if isinstance(model, PneumoEnsemble):
        members = [dict(m) for m in config["members"]]
        return {"name": ENSEMBLE, "arguments": {"members": members}}
    return dict(config["architecture"])


def finalise_model(model: torch.nn.Module, config: dict[str, Any], run_dir: Path, train_px: np.ndarray,
                   val: Validation, fingerprint: str, history: list[dict[str, Any]]) -> ModelCard:
    """Calibration, the gate and the card for a selected network (or ensemble); writes ``run_dir/model``."""
    model = model.to(memory_format=torch.contiguous_format).eval()
    temperature, threshold, validation = calibrate(model, val, float(config["target_sensitivity"]))
    ood_arrays, ood_params = fit_gate(model, train_px, val.pixels, gate_variants(val))
    card = ModelCard(
        name=config["name"], version=config["version"], architecture=architecture_of(model, config),
        preprocess={"size": int(config["size"]), "resample": RESAMPLE, "normalisation": NORMALISATION},
        output={"temperature": round(temperature, 5), "threshold": round(threshold, 5),
                "positive_if": "p >= threshold"},
        cam_layer=(lambda layers: layers[0] if len(layers) == 1 else layers)(cam_layers_of(model)),
        intended_population=INTENDED_POPULATION,
        metrics={"validation": validation, "test": None, "training_history": history},
        ood=ood_params, data_fingerprint=fingerprint, config=config, git_commit=git_commit(),
    )
    save_model(run_dir / "model", model, card, ood_arrays)
    v, h = validation["all"], validation["shifted_held_out"]
    log.info("validation: AUC %.4f spec %.3f ECE %.3f | held-out shifted: AUC %.4f sens %.3f spec %.3f ECE %.3f "
             "| threshold %.4f T=%.3f | gate warn %.1f refuse %.1f confidence %.3f", v["roc_auc"]["value"],
             v["specificity"]["value"], v["ece"]["value"], h["roc_auc"]["value"], h["sensitivity"]["value"],
             h["specificity"]["value"], h["ece"]["value"], threshold, temperature,
             ood_params["warn_threshold"], ood_params["threshold"], ood_params["min_orientation_confidence"])
    return card
