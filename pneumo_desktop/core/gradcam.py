"""Grad-CAM (Selvaraju et al. 2017), in-house: the grad-cam package would pull torchvision and OpenCV."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pneumo_desktop.core.network import PneumoNet


@contextmanager
def _capture(layer: nn.Module) -> Iterator[dict[str, torch.Tensor]]:
    """Record the layer's output and its gradient; the hooks never outlive the block."""
    store: dict[str, torch.Tensor] = {}

    def on_forward(_module: nn.Module, _inputs: object, output: torch.Tensor) -> torch.Tensor:
        if not output.requires_grad:
            # Frozen weights (the predictor's): make the CAM layer a leaf, so the backward pass runs through
            # the head only (7 ms instead of 21 ms for the whole network; the map is the same).
            output = output.detach().requires_grad_()
        store["activation"] = output
        output.register_hook(lambda grad: store.__setitem__("gradient", grad))
        return output

    handle = layer.register_forward_hook(on_forward)
    try:
        yield store
    finally:
        handle.remove()


def grad_cam(
    model: PneumoNet, x: torch.Tensor, layer_name: str
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Return (logits (N,), embeddings (N, C), cams (N, h, w) in [0, 1]) for a 1-logit model.

    Logit and embedding come from the same single forward pass as the map.
    """
    layer = model.get_submodule(layer_name)
    with torch.enable_grad(), _capture(layer) as store:
        logits, embedding = model.logits_and_embedding(x)
        logits.sum().backward()
    activation, gradient = store["activation"], store["gradient"]
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * activation).sum(dim=1))
    peak = cam.flatten(1).amax(dim=1).clamp_min(1e-12)[:, None, None]
    return logits.detach(), embedding.detach(), (cam / peak).detach().float().numpy()


def upsample_cam(cam: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Map a low-resolution CAM onto the original image geometry (rows, cols).

    The model saw the whole image squashed to a square, so CAM cell (i, j) covers the same fraction of the
    original image; bilinear with half-pixel centres (align_corners=False) keeps cell centres registered.
    """
    t = torch.from_numpy(np.ascontiguousarray(cam, dtype=np.float32))[None, None]
    up = F.interpolate(t, size=shape, mode="bilinear", align_corners=False)
    return up[0, 0].clamp_(0.0, 1.0).numpy()
