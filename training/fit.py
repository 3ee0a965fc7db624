"""``pneumo-train fit``: train from scratch, checkpoint every epoch, select on the shifted validation, calibrate.

Runs alone or under ``torchrun --nproc_per_node=N`` (DDP; gloo on CPU, nccl on GPU). ``--device auto`` trains
on CUDA when present, else on the CPU; bf16 autocast is used only where ``bf16`` in the config says so
(measured: 7-10x slower on CPUs without AVX-512 BF16/AMX, so never switched on silently).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from pneumo_desktop.core.atomic import atomic_write_text
from training import data as data_mod
from training.card import Validation, finalise_model
from training.config import save_config
from training.engine import Bar, train_one_epoch
from training.network import build_network
from training.selection import build_shifted, selection_metrics

log = logging.getLogger("pneumo_train")
CHECKPOINT = "checkpoint.pt"


def resolve_device(name: str) -> torch.device:
    """auto: CUDA when present (the local rank's GPU under torchrun), else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA device is visible to torch")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def _distributed(device: torch.device) -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def _subset(items: list[data_mod.Item], limit: int, seed: int) -> list[data_mod.Item]:
    """A label-balanced sample for smoke runs."""
    rng = random.Random(seed)
    out = []
    for label in (0, 1):
        pool = [i for i in items if i.label == label]
        out += rng.sample(pool, min(len(pool), limit // 2))
    return sorted(out, key=lambda i: i.relpath)


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def _sync_buffers(model: torch.nn.Module, world: int) -> None:
    # BatchNorm running stats are updated from each rank's own batch; make them rank 0's everywhere.
    if world > 1:
        for buffer in model.buffers():
            dist.broadcast(buffer, 0)


def fit(data_root: Path, config: dict[str, Any], run_dir: Path, cache_dir: Path | None,
        stop_after_epoch: int | None = None, device_name: str = "auto") -> Path:
    device = resolve_device(device_name)
    rank, world = _distributed(device)
    torch.set_num_threads(max(1, int(config["threads"]) // world))
    run_dir.mkdir(parents=True, exist_ok=True)
    seed = int(config["seed"])

    items = data_mod.read_items(data_root, "train")
    if config.get("limit"):
        items = _subset(items, int(config["limit"]), seed)
    train_items, val_items, val_patients = data_mod.patient_split(items, float(config["val_fraction"]), seed)
    size = int(config["size"])
    t0 = time.perf_counter()
    train_px, train_sha = data_mod.decode_all(data_root, train_items, size, cache_dir)
    val_px, val_sha = data_mod.decode_all(data_root, val_items, size, cache_dir)
    if rank == 0:
        log.info("decoded %d train + %d val images in %.1fs", len(train_items), len(val_items),
                 time.perf_counter() - t0)
        save_config(config, run_dir / "config.yaml")
        atomic_write_text(run_dir / "split.json", json.dumps({
            "seed": seed, "val_fraction": config["val_fraction"], "val_patients": val_patients,
            "n_train": len(train_items), "n_val": len(val_items),
        }, indent=1))
    y_train = np.array([i.label for i in train_items], np.int64)
    y_val = np.array([i.label for i in val_items], np.int64)
    originals = [i for i in val_items if i.source_kind == "original"]
    shifted = build_shifted(data_root, originals, size) if rank == 0 else {}
    clean_original = np.array([i.source_kind == "original" for i in val_items])

    torch.manual_seed(seed)
    arch = config["architecture"]
    model = build_network(arch["name"], **dict(arch["arguments"])).to(device)
    channels_last = bool(config["channels_last"])
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"])
    gen = torch.Generator().manual_seed(seed)
    pos_weight = float((y_train == 0).sum() / max((y_train == 1).sum(), 1)) \
        if config["pos_weight"] == "balanced" else float(config["pos_weight"])

    start_epoch, step, best_auc, history = 0, 0, -1.0, []
    ckpt_path = run_dir / CHECKPOINT
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=True, map_location=device)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        gen.set_state(ckpt["generator"])
        torch.set_rng_state(ckpt["torch_rng"])
        start_epoch, step, best_auc = int(ckpt["epoch"]) + 1, int(ckpt["step"]), float(ckpt["best_auc"])
        history = list(ckpt["history"])
        if rank == 0:
            log.info("resumed from epoch %d", start_epoch)
    ddp_model: torch.nn.Module = model
    if world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)

    epochs = int(config["epochs"])
    per_rank = len(train_items) // world
    steps_per_epoch = per_rank // int(config["batch_size"])
    total_steps = epochs * steps_per_epoch
    for epoch in range(start_epoch, epochs):
        t_epoch = time.perf_counter()
        order = torch.randperm(len(train_items), generator=gen)[: per_rank * world][rank::world]
        bar = Bar(f"epoch {epoch + 1}/{epochs}", enabled=rank == 0)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bool(config.get("bf16", False))):
            loss, step = train_one_epoch(ddp_model, optimizer, train_px, y_train, order, config, gen, step,
                                         total_steps, pos_weight, channels_last, progress=bar, device=device)
        _sync_buffers(model, world)
        if rank == 0:
            seconds = time.perf_counter() - t_epoch
            sel = selection_metrics(model, val_px, y_val, shifted, clean_original, device)
            auc = float(sel["selection_score"])
            lr = optimizer.param_groups[0]["lr"]
            history.append({"epoch": epoch + 1, "loss": loss, "val_auc": sel["val_auc"],
                            "val_logloss": sel["val_logloss"], "held_out_auc": sel.get("held_out_auc"),
                            "held_out_logloss": sel.get("held_out_logloss"), "lr": lr, "seconds": seconds,
                            "device": str(device)})
            log.info("epoch %d/%d loss %.4f val_auc %.4f held-out shifted auc %.4f lr %.2e %.1fs", epoch + 1,
                     epochs, loss, sel["val_auc"], auc, lr, seconds)
            if auc > best_auc or best_auc < 0:
                best_auc = auc
                _save_checkpoint(run_dir / "best_state.pt", {k: v.clone() for k, v in model.state_dict().items()})
            _save_checkpoint(ckpt_path, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                "step": step, "best_auc": best_auc, "generator": gen.get_state(),
                "torch_rng": torch.get_rng_state(), "history": history, "config": config,
            })
        if world > 1:
            dist.barrier()
        if stop_after_epoch is not None and epoch + 1 >= stop_after_epoch:
            return run_dir

    if world > 1:
        # Each rank records a digest of its final parameters, so a run can prove the replicas agree.
        digest = hashlib.sha256(b"".join(v.detach().cpu().contiguous().numpy().tobytes()
                                         for v in model.state_dict().values())).hexdigest()
        (run_dir / f"rank{rank}_weights.sha256").write_text(digest + "\n")
    if rank == 0:
        best = torch.load(run_dir / "best_state.pt", weights_only=True, map_location="cpu")
        model = model.cpu()
        model.load_state_dict(best)
        fingerprint = data_mod.data_fingerprint(train_items + val_items, train_sha + val_sha)
        finalise_model(model, config, run_dir, train_px, Validation(val_px, y_val, val_items, shifted, originals),
                       fingerprint, history)
        (run_dir / "FINISHED").write_text(datetime.now(UTC).isoformat() + "\n")
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return run_dir
