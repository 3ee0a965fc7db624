"""Building the torch model from a card and its weights, and saving a model directory (training only).

A model directory holds the weights (safetensors), the runtime export the app runs (ONNX) and the card that
pins both; ``save_model`` writes all three, the card last, so a directory is never left with a card that
points at files not yet written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save as st_save

from pneumo_desktop.core.atomic import atomic_write_bytes
from pneumo_desktop.core.errors import ModelLoadError
from pneumo_desktop.core.hashing import sha256_bytes
from pneumo_desktop.core.model_card import CARD_FILENAME, WEIGHTS_FILENAME, ModelCard
from pneumo_desktop.core.weights import DECISION_KEY, OOD_PREFIX
from training.network import Network, build_network


def build_model(card: ModelCard, tensors: dict[str, np.ndarray] | dict[str, torch.Tensor]) -> Network:
    """The torch network the card describes, with the weights core.weights.read_verified returns."""
    arch = card.architecture
    try:
        model = build_network(arch["name"], **dict(arch.get("arguments", {})))
    except (TypeError, ValueError) as exc:
        raise ModelLoadError(f"model card describes an unknown network: {exc}") from exc
    state = {k: torch.as_tensor(v) for k, v in tensors.items() if not k.startswith(OOD_PREFIX)}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(f"weights do not fit architecture {arch['name']}: {str(exc)[:200]}") from exc
    return model.eval()


def save_model(
    directory: Path, model: torch.nn.Module, card: ModelCard,
    ood: dict[str, torch.Tensor] | dict[str, np.ndarray] | None = None,
) -> ModelCard:
    """Write weights, runtime export and card into ``directory``; the card's weights_sha256 and runtime entry
    are filled in here."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for key, value in (ood or {}).items():
        tensors[OOD_PREFIX + key] = torch.as_tensor(value).detach().cpu().float().contiguous()
    data = st_save(tensors, metadata={"format": "pt", "name": card.name, "version": card.version,
                                      DECISION_KEY: card.decision_digest()})
    atomic_write_bytes(directory / WEIGHTS_FILENAME, data)
    card.weights_sha256 = sha256_bytes(data)
    from training.runtime_export import export_runtime

    export_runtime(model, card, directory)
    card.write(directory / CARD_FILENAME)
    return card
