"""The CNN: a small residual network, one grayscale channel in, one logit out.

Training only: the app runs the ONNX export of it (training/runtime_export.py, core/runtime.py). About 0.7 M
parameters per member.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from pneumo_desktop.core.orientation import MIRROR_TURN, ORIENTATIONS, inverse_orientation

ARCHITECTURE = "pneumo_resnet"
ENSEMBLE = "pneumo_ensemble"
CAM_LAYER = "features.4"
__all__ = ["ORIENTATIONS", "inverse_orientation", "orient", "build_network", "PneumoNet", "PneumoEnsemble"]


def orient(x: torch.Tensor, index: int) -> torch.Tensor:
    """core.orientation.orient on tensors (training augments on the GPU): ORIENTATIONS[index] on (..., H, W)."""
    if index < 4:
        return torch.rot90(x, index, dims=(-2, -1))
    return torch.rot90(x.flip(-1), MIRROR_TURN[index], dims=(-2, -1))


def _conv_bn(c_in: int, c_out: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
    )


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = _conv_bn(c_in, c_out, stride)
        self.conv2 = _conv_bn(c_out, c_out)
        self.shortcut = (
            nn.Identity() if stride == 1 and c_in == c_out else _conv_bn(c_in, c_out, stride, kernel=1)
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.conv1(x))
        out = self.conv2(out)
        return self.act(out + self.shortcut(x))


class PneumoNet(nn.Module):
    """Stem (stride 4) + residual stages (stride 2 each) + global average pool + linear heads.

    ``features.4`` (the last stage, 7x7 at 224 px) is the Grad-CAM layer. With ``orientation_classes`` = 8 a
    second linear head on the same pooled features predicts which of the eight flips/rotations (ORIENTATIONS)
    turns the input upright; it is trained self-supervised beside the classifier, so it costs one matrix-vector
    product at inference.
    """

    def __init__(self, widths: tuple[int, ...] = (24, 48, 96, 192), dropout: float = 0.2,
                 blocks: tuple[int, ...] | None = None, orientation_classes: int = 0) -> None:
        super().__init__()
        # A 4x4 stride-4 "patchify" stem: on 2 CPU cores a full-resolution 5x5 stem plus max-pool made a
        # training step 1.8x slower for no validation gain worth that time.
        stem = nn.Sequential(
            nn.Conv2d(1, widths[0], 4, stride=4, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        stages: list[nn.Module] = []
        c_in = widths[0]
        for i, width in enumerate(widths):
            depth = blocks[i] if blocks is not None else 1
            stage = [BasicBlock(c_in, width, stride=1 if i == 0 else 2)]
            stage += [BasicBlock(width, width, stride=1) for _ in range(depth - 1)]
            # One block stays a bare BasicBlock so that v1 weights (features.N.conv1...) keep their names.
            stages.append(stage[0] if depth == 1 else nn.Sequential(*stage))
            c_in = width
        self.features = nn.Sequential(stem, *stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(c_in, 1)
        self.orientation = nn.Linear(c_in, orientation_classes) if orientation_classes else None

    def outputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(pneumonia logits (N,), gate embedding (N, C), orientation logits (N, 8) or None), one pass.

        The gate embedding is the pooled final feature vector that both heads read. (v1 used stage-2 channel
        means; once the orientation head's confidence catches CT/MR slices, the pooled features' distance
        catches most of the rest without refusing ordinary film variations: benchmarks/gate_ood.py.)
        """
        pooled = torch.flatten(self.pool(self.features(x)), 1)
        logits = self.head(self.dropout(pooled)).squeeze(1)
        orientation = self.orientation(pooled) if self.orientation is not None else None
        return logits, pooled, orientation

    def logits_and_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (N,) and the out-of-distribution embedding (N, C) from one forward pass.

        The embedding is the channel means of stage 2 (stride 16): low-level texture statistics separated
        non-chest images from chest films far better than the final pooled features (non-chest rejection 100 %
        vs 47 % on the tuning half at the same 1 % validation budget; benchmarks/gate_ood.py).
        """
        logits, embedding, _ = self.outputs(x)
        return logits, embedding

    def forward(self, x: torch.Tensor, all_outputs: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        # ``all_outputs`` goes through forward() so that DistributedDataParallel sees the heads' gradients.
        return self.outputs(x) if all_outputs else self.outputs(x)[0]


class PneumoEnsemble(nn.Module):
    """Members' outputs combined: the mean logit, the mean orientation probabilities (as logits), and the
    members' gate embeddings side by side (a richer description of the film for the out-of-distribution distance).
    Grad-CAM is the mean of the members' maps (ModelCard.cam_layers names one layer per member)."""

    def __init__(self, members: list[dict[str, Any]]) -> None:
        super().__init__()
        self.members = nn.ModuleList(_pneumo_net(**dict(m)) for m in members)

    def outputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        outs = [cast(PneumoNet, member).outputs(x) for member in self.members]
        logits = torch.stack([o[0] for o in outs]).mean(dim=0)
        embedding = torch.cat([o[1] for o in outs], dim=1)
        turned = [torch.softmax(o[2], dim=1) for o in outs if o[2] is not None]
        # Averaged as probabilities (what each member believes), returned as log-probabilities.
        orientation = torch.stack(turned).mean(dim=0).log() if len(turned) == len(outs) else None
        return logits, embedding, orientation

    def logits_and_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, embedding, _ = self.outputs(x)
        return logits, embedding

    def forward(self, x: torch.Tensor, all_outputs: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        return self.outputs(x) if all_outputs else self.outputs(x)[0]


def _pneumo_net(**arguments: Any) -> PneumoNet:
    for key in ("widths", "blocks"):
        if arguments.get(key) is not None:
            arguments[key] = tuple(arguments[key])
    return PneumoNet(**arguments)


Network = PneumoNet | PneumoEnsemble


def build_network(architecture: str = ARCHITECTURE, **arguments: Any) -> Network:
    if architecture == ARCHITECTURE:
        return _pneumo_net(**arguments)
    if architecture == ENSEMBLE:
        return PneumoEnsemble(list(arguments["members"]))
    raise ValueError(f"unknown architecture {architecture!r}")


def cam_layers_of(model: nn.Module) -> list[str]:
    """The Grad-CAM layer of each member (the last stage)."""
    if isinstance(model, PneumoEnsemble):
        return [f"members.{i}.{CAM_LAYER}" for i in range(len(model.members))]
    return [CAM_LAYER]
