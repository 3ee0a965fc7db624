"""Augmentation for radiographs, on batches of [0, 1] tensors, driven by an explicit torch.Generator.

Covers the shifts between hospitals' exports: exposure (gamma, brightness, contrast), framing (scale,
aspect, shift, small rotation) and sharpness (blur, noise). All randomness comes from ``generator`` so that a
resumed run draws exactly what an uninterrupted one would.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F


def _uniform(n: int, low: float, high: float, g: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=g)


def augment(x: torch.Tensor, cfg: dict[str, Any], g: torch.Generator) -> torch.Tensor:
    """x: (N, 1, H, W) float32 in [0, 1] -> augmented, still in [0, 1]."""
    n = x.shape[0]
    angle = _uniform(n, -cfg["rotation_deg"], cfg["rotation_deg"], g) * math.pi / 180.0
    scale = _uniform(n, *cfg["scale"], g)
    aspect = torch.exp(_uniform(n, -cfg["aspect"], cfg["aspect"], g))
    sx, sy = scale * aspect.sqrt(), scale / aspect.sqrt()
    tx, ty = _uniform(n, -cfg["shift"], cfg["shift"], g) * 2, _uniform(n, -cfg["shift"], cfg["shift"], g) * 2
    cos, sin = torch.cos(angle), torch.sin(angle)
    # affine_grid maps output to input coordinates: dividing by the scale zooms in for scale > 1.
    theta = torch.stack([
        torch.stack([cos / sx, -sin / sx, tx], dim=1),
        torch.stack([sin / sy, cos / sy, ty], dim=1),
    ], dim=1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    gamma = torch.exp(_uniform(n, math.log(cfg["gamma"][0]), math.log(cfg["gamma"][1]), g)).view(n, 1, 1, 1)
    x = x.clamp(1e-6, 1.0) ** gamma
    contrast = _uniform(n, *cfg["contrast"], g).view(n, 1, 1, 1)
    brightness = _uniform(n, -cfg["brightness"], cfg["brightness"], g).view(n, 1, 1, 1)
    mean = x.mean(dim=(2, 3), keepdim=True)
    x = (x - mean) * contrast + mean + brightness

    blur = (torch.rand(n, generator=g) < cfg["blur_p"]).view(n, 1, 1, 1)
    kernel = torch.tensor([0.25, 0.5, 0.25])
    k2 = (kernel[:, None] * kernel[None, :]).view(1, 1, 3, 3)
    blurred = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k2)
    x = torch.where(blur, blurred, x)
    if cfg["noise_std"] > 0:
        x = x + cfg["noise_std"] * torch.rand(n, 1, 1, 1, generator=g) * torch.randn(x.shape, generator=g)
    if cfg.get("hflip"):
        flip = (torch.rand(n, generator=g) < 0.5).view(n, 1, 1, 1)
        x = torch.where(flip, x.flip(-1), x)
    return x.clamp(0.0, 1.0)
