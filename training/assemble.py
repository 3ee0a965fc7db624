"""``pneumo-train assemble``: members trained by training/sweep.py -> one ensemble, calibrated, gated, carded.

The ensemble ships as ONE safetensors file (members' tensors under ``members.<i>.``) and ONE card listing its
members, their recipes and the epoch each was selected at (on the shifted validation).
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pneumo_desktop.core.model_card import ModelCard
from training import data as data_mod
from training.card import Validation, finalise_model
from training.config import DEFAULTS
from training.network import PneumoEnsemble
from training.selection import build_shifted
from training.sweep import candidate_config

log = logging.getLogger("pneumo_train")


def _member_history(summary: dict[str, Any]) -> dict[str, Any]:
    history = summary.get("history") or []
    best = max(history, key=lambda h: h["selection_score"]) if history else {}
    return {"epochs_run": len(history), "selected_epoch": best.get("epoch"),
            "selection_score": best.get("selection_score"), "held_out_logloss": best.get("held_out_logloss"),
            "train_seconds": round(sum(h["seconds"] for h in history), 1),
            "seconds_note": "wall time per epoch on the lent GPU, several candidates side by side"}


def assemble(sweep_dir: Path, members: list[str], data_root: Path, out: Path, cache_dir: Path | None,
             version: str) -> ModelCard:
    states: dict[str, dict[str, torch.Tensor]] = {}
    for path in sorted(Path(sweep_dir).glob("states*.pt")):
        states.update(torch.load(path, weights_only=True))
    summaries = json.loads((Path(sweep_dir) / "summaries.json").read_text())
    configs = [candidate_config(name) for name in members]
    ensemble = PneumoEnsemble([c["architecture"]["arguments"] for c in configs])
    for member, name in zip(ensemble.members, members, strict=True):
        member.load_state_dict(states[name])
    config = copy.deepcopy(configs[0])
    config.update(version=version, members=[c["architecture"]["arguments"] for c in configs], member_names=members)
    items = data_mod.read_items(data_root, "train")
    train_items, val_items, _ = data_mod.patient_split(items, float(DEFAULTS["val_fraction"]), int(DEFAULTS["seed"]))
    size = int(config["size"])
    train_px, train_sha = data_mod.decode_all(data_root, train_items, size, cache_dir)
    val_px, val_sha = data_mod.decode_all(data_root, val_items, size, cache_dir)
    originals = [i for i in val_items if i.source_kind == "original"]
    shifted = build_shifted(data_root, originals, size)
    val = Validation(val_px, np.array([i.label for i in val_items]), val_items, shifted, originals)
    history = [{"member": name, **_member_history(summaries.get(name, {}))} for name in members]
    fingerprint = data_mod.data_fingerprint(train_items + val_items, train_sha + val_sha)
    return finalise_model(ensemble, config, out, train_px, val, fingerprint, history)
