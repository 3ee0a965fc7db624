"""Turns the selected network into the shipped artefact: calibration, OOD gate parameters, model card."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.network import CAM_LAYER, PneumoNet
from pneumo_desktop.core.preprocess import NORMALISATION, RESAMPLE
from pneumo_desktop.core.weights import save_model
from training.calibration import fit_temperature, threshold_for_sensitivity
from training.data import Item
from training.engine import forward_cached
from training.metrics import metrics_with_ci

log = logging.getLogger("pneumo_train")

INTENDED_POPULATION = {
    "description": "Frontal (PA/AP) chest radiographs of children aged 1-5 years, like the training data: "
                   "one centre (Guangzhou Women and Children's Medical Center), retrospective.",
    "age_years": [1, 5],
    "views": ["PA", "AP"],
    "modalities": ["CR", "DX"],
    "not_for": ["adults", "lateral views", "CT or other modalities", "images from other sites without local validation"],
}
# Quantile of validation Mahalanobis distances above which an input is called out-of-distribution,
# and a margin: validation chest films sit well inside; non-chest images land far outside.
OOD_QUANTILE, OOD_MARGIN = 0.995, 1.5


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).parent).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def fit_ood(train_embed: np.ndarray, val_embed: np.ndarray) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Gaussian fit of pooled CNN features with Ledoit-Wolf shrinkage; threshold from held-out images."""
    from sklearn.covariance import LedoitWolf

    lw = LedoitWolf().fit(train_embed.astype(np.float64))
    mean, precision = lw.location_, lw.precision_
    d = val_embed - mean
    val_dist = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", d, precision, d), 0))
    threshold = float(np.quantile(val_dist, OOD_QUANTILE) * OOD_MARGIN)
    arrays = {"mean": torch.from_numpy(mean).float(), "precision": torch.from_numpy(precision).float()}
    params = {"method": "mahalanobis_stage2_channel_means", "threshold": threshold, "fitted_on": "training split minus the patient-level validation patients",
              "threshold_rule": f"{OOD_QUANTILE} quantile of validation distances x {OOD_MARGIN}",
              "val_distance_median": float(np.median(val_dist)), "arrays": ["ood.mean", "ood.precision"]}
    return arrays, params


def finalise_model(model: PneumoNet, config: dict[str, Any], run_dir: Path, train_px: np.ndarray,
                   val_px: np.ndarray, y_val: np.ndarray, val_items: list[Item], fingerprint: str,
                   history: list[dict[str, Any]], channels_last: bool) -> ModelCard:
    model.eval()
    val_logits, val_embed = forward_cached(model, val_px, channels_last=channels_last)
    _, train_embed = forward_cached(model, train_px, channels_last=channels_last)
    kinds = np.array([i.source_kind for i in val_items])
    calib = kinds == config["calibrate_on"]
    if config["calibrate_on"] == "all" or calib.sum() < 50 or len(set(y_val[calib].tolist())) < 2:
        calib = np.ones(len(y_val), bool)
    temperature = fit_temperature(val_logits[calib], y_val[calib])
    probs = 1.0 / (1.0 + np.exp(-val_logits / temperature))
    threshold = threshold_for_sensitivity(probs[calib], y_val[calib], float(config["target_sensitivity"]))
    validation: dict[str, Any] = {"all": metrics_with_ci(probs, y_val, threshold)}
    for kind in sorted(set(kinds.tolist())):
        m = kinds == kind
        if len(set(y_val[m].tolist())) == 2:
            validation[kind] = metrics_with_ci(probs[m], y_val[m], threshold)
    validation["calibrated_on"] = f"{int(calib.sum())} validation images ({config['calibrate_on']})"
    ood_arrays, ood_params = fit_ood(train_embed, val_embed)
    card = ModelCard(
        name=config["name"], version=config["version"], architecture=dict(config["architecture"]),
        preprocess={"size": int(config["size"]), "resample": RESAMPLE, "normalisation": NORMALISATION},
        output={"temperature": round(temperature, 5), "threshold": round(threshold, 5),
                "positive_if": "p >= threshold"},
        cam_layer=CAM_LAYER, intended_population=INTENDED_POPULATION,
        metrics={"validation": validation, "test": None, "training_history": history},
        ood=ood_params, data_fingerprint=fingerprint, config=config, git_commit=git_commit(),
    )
    # Save a plain contiguous copy: channels-last strides are an in-memory layout, not part of the weights.
    model = model.to(memory_format=torch.contiguous_format)
    save_model(run_dir / "model", model, card, ood_arrays)
    v = validation["all"]
    log.info("validation: AUC %.4f sens %.3f spec %.3f ECE %.3f at threshold %.3f, T=%.3f",
             v["roc_auc"]["value"], v["sensitivity"]["value"], v["specificity"]["value"], v["ece"]["value"],
             threshold, temperature)
    return card


def refit_ood(model_dir: Path, data_root: Path, cache_dir: Path | None) -> ModelCard:
    """Recompute the gate's Gaussian for an existing model (after a change of OOD embedding); weights unchanged."""
    from pneumo_desktop.core.model_card import CARD_FILENAME, WEIGHTS_FILENAME
    from pneumo_desktop.core.weights import build_model, read_verified
    from training import data as data_mod

    card = ModelCard.read(model_dir / CARD_FILENAME)
    model = build_model(card, read_verified(model_dir / WEIGHTS_FILENAME, card))
    cfg = card.config
    items = data_mod.read_items(data_root, "train")
    train_items, val_items, _ = data_mod.patient_split(items, float(cfg["val_fraction"]), int(cfg["seed"]))
    size = int(cfg["size"])
    _, train_embed = forward_cached(model, data_mod.decode_all(data_root, train_items, size, cache_dir)[0])
    _, val_embed = forward_cached(model, data_mod.decode_all(data_root, val_items, size, cache_dir)[0])
    arrays, params = fit_ood(train_embed, val_embed)
    card.ood = params
    card.cam_layer = CAM_LAYER
    return save_model(model_dir, model, card, arrays)
