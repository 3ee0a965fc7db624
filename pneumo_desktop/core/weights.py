"""Reading the weights file: safetensors only (never a pickle), sha256-pinned by the card, read as numpy.

The app reads from it the gate's arrays and the heads' weights for the heatmap; the network itself runs from
the runtime export (core/runtime.py). training/model_io.py writes it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as st_load

from pneumo_desktop.core.errors import ModelLoadError
from pneumo_desktop.core.hashing import sha256_bytes
from pneumo_desktop.core.model_card import CARD_FILENAME, ModelCard

OOD_PREFIX = "ood."
DECISION_KEY = "card_decision_sha256"


def read_verified(weights_path: Path, card: ModelCard) -> dict[str, np.ndarray]:
    """Read the tensors, refusing a file whose sha256 differs from the card's."""
    try:
        data = Path(weights_path).read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"weights file {Path(weights_path).name} cannot be read: {exc.strerror}") from exc
    digest = sha256_bytes(data)
    if digest != card.weights_sha256:
        raise ModelLoadError(
            f"weights file {Path(weights_path).name} does not match its model card (sha256 {digest[:12]}... "
            f"expected {card.weights_sha256[:12]}...): it is damaged or was replaced. "
            "Reinstall the application; images can still be viewed."
        )
    try:
        tensors = st_load(data)
        metadata = safe_open_metadata(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"weights file {Path(weights_path).name} is not a valid safetensors file") from exc
    if metadata.get(DECISION_KEY) != card.decision_digest():
        raise ModelLoadError(
            f"model card {CARD_FILENAME} does not match its weights file: a decision field (threshold, "
            "temperature, gate or preprocessing) was edited. Reinstall the application, or recreate a site card "
            "with `pneumo-train calibrate`; images can still be viewed."
        )
    return tensors


def safe_open_metadata(data: bytes) -> dict[str, str]:
    """The safetensors header's ``__metadata__`` (the format: 8-byte little-endian length, then JSON)."""
    import json

    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    return dict(header.get("__metadata__") or {})


def ood_arrays(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k[len(OOD_PREFIX):]: v for k, v in tensors.items() if k.startswith(OOD_PREFIX)}
