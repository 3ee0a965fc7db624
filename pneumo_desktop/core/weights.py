"""Reading and writing the weights file: safetensors only (never a pickle), sha256-pinned by the card."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from pneumo_desktop.core.errors import ModelLoadError
from pneumo_desktop.core.hashing import sha256_bytes
from pneumo_desktop.core.model_card import CARD_FILENAME, WEIGHTS_FILENAME, ModelCard
from pneumo_desktop.core.network import Network, build_network

OOD_PREFIX = "ood."
DECISION_KEY = "card_decision_sha256"


def read_verified(weights_path: Path, card: ModelCard) -> dict[str, torch.Tensor]:
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


def build_model(card: ModelCard, tensors: dict[str, torch.Tensor]) -> Network:
    arch = card.architecture
    try:
        model = build_network(arch["name"], **dict(arch.get("arguments", {})))
    except (TypeError, ValueError) as exc:
        raise ModelLoadError(f"model card describes an unknown network: {exc}") from exc
    state = {k: v for k, v in tensors.items() if not k.startswith(OOD_PREFIX)}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(f"weights do not fit architecture {arch['name']}: {str(exc)[:200]}") from exc
    return model.eval()


def ood_arrays(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k[len(OOD_PREFIX):]: v for k, v in tensors.items() if k.startswith(OOD_PREFIX)}


def save_model(
    directory: Path, model: torch.nn.Module, card: ModelCard, ood: dict[str, torch.Tensor] | None = None
) -> ModelCard:
    """Write weights + card into ``directory``; the card's weights_sha256 is filled in here."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for key, value in (ood or {}).items():
        tensors[OOD_PREFIX + key] = value.detach().cpu().float().contiguous()
    data = st_save(tensors, metadata={"format": "pt", "name": card.name, "version": card.version,
                                      DECISION_KEY: card.decision_digest()})
    from pneumo_desktop.core.atomic import atomic_write_bytes

    atomic_write_bytes(directory / WEIGHTS_FILENAME, data)
    card.weights_sha256 = sha256_bytes(data)
    card.write(directory / CARD_FILENAME)
    return card
