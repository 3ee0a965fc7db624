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


def train_one_epoch(model: torch.nn.Module, optimizer: torch.optim.Optimizer, pixels: np.ndarray,
                    labels: np.ndarray, order: torch.Tensor, cfg: dict[str, Any], g: torch.Generator,
                    step0: int, total_steps: int, pos_weight: float, channels_last: bool,
                    progress: Callable[[int, int, float], None] | None = None) -> tuple[float, int]:
    model.train()
    batch = int(cfg["batch_size"])
    losses = []
    step = step0
    pw = torch.tensor(pos_weight)
    n_batches = len(order) // batch  # drop the ragged last batch: BatchNorm dislikes tiny batches
    for b in range(n_batches):
        idx = order[b * batch:(b + 1) * batch].numpy()
        x = torch.from_numpy(pixels[idx].astype(np.float32))[:, None]
        y = torch.from_numpy(labels[idx].astype(np.float32))
        x = standardise_t(augment(x, cfg["augment"], g))
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, total_steps, cfg["lr"])
        logits = model(x)
        loss = F.binary_cross_entropy_with_logits(logits, y, pos_weight=pw)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        step += 1
        if progress is not None:
            progress(b + 1, n_batches, losses[-1])
    return float(np.mean(losses)) if losses else float("nan"), step


@torch.inference_mode()
def forward_cached(model: torch.nn.Module, pixels: np.ndarray, batch: int = 128,
                   channels_last: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Logits and pooled embeddings for cached (N, S, S) [0, 1] images, no augmentation."""
    model.eval()
    logits, embeds = [], []
    for start in range(0, len(pixels), batch):
        x = standardise_t(torch.from_numpy(pixels[start:start + batch].astype(np.float32))[:, None])
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        batch_logits, e = model.logits_and_embedding(x)
        embeds.append(e.float().numpy())
        logits.append(batch_logits.float().numpy())
    if not logits:
        return np.zeros(0, np.float32), np.zeros((0, 1), np.float32)
    return np.concatenate(logits), np.concatenate(embeds)


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
