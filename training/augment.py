"""Augmentation for radiographs, on batches of [0, 1] tensors, driven by an explicit torch.Generator.

Covers the shifts between hospitals' exports: exposure (gamma, brightness, contrast), framing (scale,
aspect, shift, small rotation), sharpness (blur, noise) and, from v2, everyday film features (collimation
borders, burned-in labels, edge enhancement). training/shifted.py holds the variations kept OUT of training. All randomness comes from ``generator`` so that a
resumed run draws exactly what an uninterrupted one would.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F


def _uniform(n: int, low: float, high: float, g: torch.Generator, device: torch.device | None = None
             ) -> torch.Tensor:
    # Draws stay on the generator's (CPU) device so a run is the same on CPU and CUDA; only the result moves.
    return (low + (high - low) * torch.rand(n, generator=g)).to(device)


def _chance(n: int, p: float, g: torch.Generator, device: torch.device) -> torch.Tensor:
    return (torch.rand(n, generator=g) < p).view(n, 1, 1, 1).to(device)


def _film_features(x: torch.Tensor, cfg: dict[str, Any], g: torch.Generator) -> torch.Tensor:
    """Everyday film features a reading must ignore: collimation borders, burned-in labels, edge enhancement."""
    n, _, h, w = x.shape
    dev = x.device
    p_border = float(cfg.get("border_p", 0.0))
    if p_border > 0:
        widths = (torch.rand(n, 4, generator=g) * float(cfg.get("border_max", 0.15)))
        widths = widths * (torch.rand(n, 4, generator=g) < 0.7)  # some sides only
        value = (torch.rand(n, generator=g) < 0.5).float().view(n, 1, 1, 1).to(dev)
        rows = torch.arange(h, dtype=torch.float32) / h
        cols = torch.arange(w, dtype=torch.float32) / w
        inside = ((rows[None, :, None] >= widths[:, 0, None, None]) & (rows[None, :, None] < 1 - widths[:, 1, None, None])
                  & (cols[None, None, :] >= widths[:, 2, None, None]) & (cols[None, None, :] < 1 - widths[:, 3, None, None]))
        framed = torch.where(inside[:, None].to(dev), x, value.expand_as(x))
        x = torch.where(_chance(n, p_border, g, dev), framed, x)
    p_label = float(cfg.get("label_p", 0.0))
    if p_label > 0:
        boxes = torch.rand(n, 4, generator=g)
        mask = torch.zeros(n, 1, h, w)
        for i in range(n):
            bh, bw = int(h * (0.04 + 0.08 * boxes[i, 0])), int(w * (0.08 + 0.15 * boxes[i, 1]))
            top, left = int((h - bh) * boxes[i, 2]), int((w - bw) * boxes[i, 3])
            mask[i, 0, top:top + bh, left:left + bw] = 1.0
        mask = mask.to(dev) * _chance(n, p_label, g, dev)
        x = x * (1 - mask) + mask * 0.97
    p_sharp = float(cfg.get("unsharp_p", 0.0))
    if p_sharp > 0:
        k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], device=dev) / 16.0
        k2 = (k[:, None] * k[None, :]).view(1, 1, 5, 5)
        smooth = F.conv2d(F.pad(x, (4, 4, 4, 4), mode="replicate"), k2, dilation=2)
        amount = _uniform(n, 0.5, 2.0, g, dev).view(n, 1, 1, 1)
        x = torch.where(_chance(n, p_sharp, g, dev), x + amount * (x - smooth), x)
    return x.clamp(0.0, 1.0)


def augment(x: torch.Tensor, cfg: dict[str, Any], g: torch.Generator) -> torch.Tensor:
    """x: (N, 1, H, W) float32 in [0, 1] -> augmented, still in [0, 1]."""
    n, dev = x.shape[0], x.device
    angle = _uniform(n, -cfg["rotation_deg"], cfg["rotation_deg"], g, dev) * math.pi / 180.0
    scale = _uniform(n, *cfg["scale"], g, dev)
    aspect = torch.exp(_uniform(n, -cfg["aspect"], cfg["aspect"], g, dev))
    sx, sy = scale * aspect.sqrt(), scale / aspect.sqrt()
    tx = _uniform(n, -cfg["shift"], cfg["shift"], g, dev) * 2
    ty = _uniform(n, -cfg["shift"], cfg["shift"], g, dev) * 2
    cos, sin = torch.cos(angle), torch.sin(angle)
    # affine_grid maps output to input coordinates: dividing by the scale zooms in for scale > 1.
    theta = torch.stack([
        torch.stack([cos / sx, -sin / sx, tx], dim=1),
        torch.stack([sin / sy, cos / sy, ty], dim=1),
    ], dim=1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    x = _film_features(x, cfg, g)
    gamma = torch.exp(_uniform(n, math.log(cfg["gamma"][0]), math.log(cfg["gamma"][1]), g, dev)).view(n, 1, 1, 1)
    x = x.clamp(1e-6, 1.0) ** gamma
    contrast = _uniform(n, *cfg["contrast"], g, dev).view(n, 1, 1, 1)
    brightness = _uniform(n, -cfg["brightness"], cfg["brightness"], g, dev).view(n, 1, 1, 1)
    mean = x.mean(dim=(2, 3), keepdim=True)
    x = (x - mean) * contrast + mean + brightness

    blur = _chance(n, cfg["blur_p"], g, dev)
    kernel = torch.tensor([0.25, 0.5, 0.25], device=dev)
    k2 = (kernel[:, None] * kernel[None, :]).view(1, 1, 3, 3)
    blurred = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k2)
    x = torch.where(blur, blurred, x)
    if cfg["noise_std"] > 0:
        level = cfg["noise_std"] * torch.rand(n, 1, 1, 1, generator=g)
        x = x + (level * torch.randn(x.shape, generator=g)).to(dev)
    if cfg.get("hflip"):
        flip = _chance(n, 0.5, g, dev)
        x = torch.where(flip, x.flip(-1), x)
    return x.clamp(0.0, 1.0)
