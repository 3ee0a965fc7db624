"""Writes the committed tiny models under tests/data/ (needs torch and onnx: the train extra).

The app's tests load these with the app's own dependencies (onnxruntime, safetensors), so they run without
torch; tests/training/test_tiny_model_fixtures.py rebuilds them with torch and checks the committed ones still
match what training writes. Regenerate after a change to training's save path, the network or the card:

    python -m tests.tiny_models          # from the repository root, in a venv with the train extra

- tiny_model: the small PneumoNet of tests/conftest.py::make_tiny_model_dir (seed 0): the ``tiny_model_dir``
  fixture.
- tiny_model_seed1: the same network from seed 1: "an export of other weights" (tests/core/test_model_card.py).
- evidence_net: the Grad-CAM geometry network of tests/core/test_gradcam.py, whose CAM layer is a 4x4 average
  of the input, so the heatmap's place is known by construction.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from pneumo_desktop.core.model_card import ModelCard
from tests.conftest import TINY_MODELS, make_tiny_model_dir

EVIDENCE_SIZE = 96


class EvidenceNet(nn.Module):
    """features = ReLU(4x4 mean of the input), global average pool, head 2x - 1: Grad-CAM must reproduce a
    low-resolution copy of the input's bright blob."""

    def __init__(self) -> None:
        super().__init__()
        conv = nn.Conv2d(1, 1, 4, stride=4, bias=False)
        conv.weight.data.fill_(1 / 16)
        self.features = nn.Sequential(conv, nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(1, 1)
        self.head.weight.data.fill_(2.0)
        self.head.bias.data.fill_(-1.0)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.pool(self.features(x)), 1)

    def outputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        embedding = self.embed(x)
        return self.head(embedding).squeeze(1), embedding, None

    def logits_and_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.outputs(x)[:2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits_and_embedding(x)[0]


def evidence_card() -> ModelCard:
    return ModelCard(
        name="evidence-net", version="0", architecture={"name": "test", "arguments": {}},
        preprocess={"size": EVIDENCE_SIZE, "resample": "bilinear", "normalisation": "per_image_standardise"},
        output={"temperature": 1.0, "threshold": 0.5, "positive_if": "p >= threshold"}, cam_layer="features",
    )


def make_evidence_net_dir(directory: Path) -> Path:
    from training.model_io import save_model

    save_model(directory, EvidenceNet().eval(), evidence_card())
    return directory


def torch_model(name: str) -> nn.Module:
    """The torch network each committed model was exported from, in eval mode."""
    from tests.conftest import tiny_network

    if name == "evidence_net":
        return EvidenceNet().eval()
    return tiny_network(seed=1 if name == "tiny_model_seed1" else 0)


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "tiny_model": lambda d: make_tiny_model_dir(d, seed=0),
    "tiny_model_seed1": lambda d: make_tiny_model_dir(d, seed=1),
    "evidence_net": make_evidence_net_dir,
}


def write_all(root: Path) -> list[Path]:
    """Each model into ``root``/<name>, replacing what was there."""
    import shutil

    written = []
    for name, build in BUILDERS.items():
        directory = root / name
        shutil.rmtree(directory, ignore_errors=True)
        written.append(build(directory))
    return written


def main() -> int:
    root = TINY_MODELS
    for directory in write_all(root):
        size = sum(f.stat().st_size for f in directory.iterdir())
        print(f"wrote {directory.relative_to(root.parents[1])} ({size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
