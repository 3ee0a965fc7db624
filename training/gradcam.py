"""Grad-CAM (Selvaraju et al. 2017) by autograd, on the torch model: the reference that the app's CAM
(core/gradcam.py, from the exported feature maps and head weights, no autograd) is checked against at export
time (training/runtime_export.py) and in tests/training/test_runtime_parity.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@contextmanager
def _capture(layers: list[nn.Module]) -> Iterator[list[dict[str, torch.Tensor]]]:
    """Record each layer's output and its gradient; the hooks never outlive the block."""
    stores: list[dict[str, torch.Tensor]] = [{} for _ in layers]

    def hook(store: dict[str, torch.Tensor]) -> Callable[[nn.Module, object, torch.Tensor], torch.Tensor]:
        def on_forward(_module: nn.Module, _inputs: object, output: torch.Tensor) -> torch.Tensor:
            if not output.requires_grad:
                # Frozen weights (the predictor's): make the CAM layer a leaf, so the backward pass runs through
                # the head only (7 ms instead of 21 ms for the whole network; the map is the same).
                output = output.detach().requires_grad_()
            store["activation"] = output
            output.register_hook(lambda grad: store.__setitem__("gradient", grad))
            return output
        return on_forward

    handles = [layer.register_forward_hook(hook(store)) for layer, store in zip(layers, stores, strict=True)]
    try:
        yield stores
    finally:
        for handle in handles:
            handle.remove()


def grad_cam(
    model: nn.Module, x: torch.Tensor, layer_names: str | list[str]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, np.ndarray]:
    """Return (logits (N,), embeddings (N, C), orientation logits or None, cams (N, h, w) in [0, 1]).

    Everything comes from one forward pass. With several layers (an ensemble's members) the map is the mean
    of each member's own normalised map.
    """
    names = [layer_names] if isinstance(layer_names, str) else list(layer_names)
    layers = [model.get_submodule(name) for name in names]
    with torch.enable_grad(), _capture(layers) as stores:
        logits, embedding, orientation = model.outputs(x)  # type: ignore[operator]
        logits.sum().backward()
    maps = []
    for store in stores:
        activation, gradient = store["activation"], store["gradient"]
        weights = gradient.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * activation).sum(dim=1))
        peak = cam.flatten(1).amax(dim=1).clamp_min(1e-12)[:, None, None]
        maps.append(cam / peak)
    cams = torch.stack(maps).mean(dim=0)
    orientation = orientation.detach() if orientation is not None else None
    return logits.detach(), embedding.detach(), orientation, cams.detach().float().numpy()

