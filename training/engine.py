"""One epoch of training and a forward pass over a cached set (torchvision references' shape)."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from training.augment import augment
from training.network import orient


def standardise_t(x: torch.Tensor) -> torch.Tensor:
    # Same definition as core.preprocess.standardise, on tensors; checked equal in tests.
    mean = x.mean(dim=(-2, -1), keepdim=True)
    std = x.std(dim=(-2, -1), keepdim=True, unbiased=False)
    return (x - mean) / (std + 1e-3)



def lr_at(step: int, total: int, peak: float, warmup: float = 0.15) -> float:
    """One-cycle: linear warm-up to ``peak`` then cosine to ~0. Stateless, so resuming needs no scheduler state."""
    w = max(int(total * warmup), 1)
    if step < w:
        return peak * (0.04 + 0.96 * step / w)
    progress = (step - w) / max(total - w, 1)
    return peak * (0.002 + 0.998 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def _oriented_copies(x: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image under a random one of the eight flips/rotations, and the index (the self-supervised target)."""
    target = torch.randint(0, 8, (x.shape[0],), generator=g)
    out = torch.empty_like(x)
    for index in range(8):
        chosen = (target == index).nonzero().squeeze(1).to(x.device)
        if len(chosen):
            out[chosen] = orient(x[chosen], index)
    return out, target.to(x.device)


def train_one_epoch(model: torch.nn.Module, optimizer: torch.optim.Optimizer, pixels: np.ndarray,
                    labels: np.ndarray, order: torch.Tensor, cfg: dict[str, Any], g: torch.Generator,
                    step0: int, total_steps: int, pos_weight: float, channels_last: bool,
                    progress: Callable[[int, int, float], None] | None = None,
                    device: torch.device | None = None) -> tuple[float, int]:
    """One pass over ``order``. With an orientation head, a random half of each batch is also shown flipped
    or rotated and the head learns which (weight ``orientation_weight``); the classifier sees upright films."""
    model.train()
    device = device or torch.device("cpu")
    batch = int(cfg["batch_size"])
    smoothing = float(cfg.get("label_smoothing", 0.0))
    orientation_weight = float(cfg.get("orientation_weight", 0.0))
    net = getattr(model, "module", model)  # DDP wraps the network
    with_orientation = orientation_weight > 0 and net.orientation is not None
    losses = []
    step = step0
    pw = torch.tensor(pos_weight, device=device)
    n_batches = len(order) // batch  # drop the ragged last batch: BatchNorm dislikes tiny batches
    for b in range(n_batches):
        idx = order[b * batch:(b + 1) * batch].numpy()
        x = torch.from_numpy(pixels[idx].astype(np.float32))[:, None].to(device)
        y = torch.from_numpy(labels[idx].astype(np.float32)).to(device)
        x = augment(x, cfg["augment"], g)
        if with_orientation:
            turned, target = _oriented_copies(x[: batch // 2], g)
            x = torch.cat([x, turned])
        x = standardise_t(x)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, total_steps, cfg["lr"])
        logits, _, orientation = model(x, all_outputs=True)
        soft = y * (1 - smoothing) + 0.5 * smoothing
        loss = F.binary_cross_entropy_with_logits(logits[:batch], soft, pos_weight=pw)
        if with_orientation and orientation is not None:
            upright = torch.zeros(batch, dtype=torch.long, device=device)
            loss = loss + orientation_weight * F.cross_entropy(orientation, torch.cat([upright, target]))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        step += 1
        if progress is not None:
            progress(b + 1, n_batches, losses[-1])
    return float(np.mean(losses)) if losses else float("nan"), step


@torch.inference_mode()
def forward_all(model: torch.nn.Module, pixels: np.ndarray, batch: int = 256, channels_last: bool = False,
                device: torch.device | None = None, orientation: int = 0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Logits, gate embeddings and orientation probabilities (or None) for cached (N, S, S) [0, 1] images,
    each first put in ORIENTATIONS[orientation]; no augmentation."""
    model.eval()
    device = device or torch.device("cpu")
    logits, embeds, orients = [], [], []
    for start in range(0, len(pixels), batch):
        x = torch.from_numpy(pixels[start:start + batch].astype(np.float32))[:, None].to(device)
        x = standardise_t(orient(x, orientation) if orientation else x)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        batch_logits, e, o = model(x, all_outputs=True)
        embeds.append(e.float().cpu().numpy())
        logits.append(batch_logits.float().cpu().numpy())
        if o is not None:
            orients.append(torch.softmax(o.float(), dim=1).cpu().numpy())
    if not logits:
        return np.zeros(0, np.float32), np.zeros((0, 1), np.float32), None
    return np.concatenate(logits), np.concatenate(embeds), (np.concatenate(orients) if orients else None)


class Bar:
    """A one-line progress bar on stderr (tqdm when installed)."""

    def __init__(self, desc: str, enabled: bool) -> None:
        self.desc, self.enabled, self.started = desc, enabled, time.perf_counter()

    def __call__(self, done: int, total: int, loss: float) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        sys.stderr.write(f"\r{self.desc} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
                         f"loss {loss:.3f} {rate:.1f} it/s")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()
