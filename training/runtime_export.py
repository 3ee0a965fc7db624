"""The runtime export: the trained torch model as the ONNX graph the app runs (core/runtime.py).

Written beside the weights by every ``save_model`` (fit, assemble, refit-gate, calibrate) and by
``pneumo-train export`` / ``export-onnx``, so every model directory the app can be pointed at has one. Each
export is checked before it is written: on random films and on rotated ones, ONNX Runtime's logits, embeddings,
orientation logits and heatmaps must equal the torch model's and its autograd Grad-CAM within PARITY_TOLERANCE.
"""

from __future__ import annotations

import copy
import io
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pneumo_desktop.core.atomic import atomic_write_bytes
from pneumo_desktop.core.hashing import sha256_bytes
from pneumo_desktop.core.model_card import RUNTIME_FILENAME, ModelCard
from pneumo_desktop.core.runtime import (
    CAM_WEIGHTS_KEY,
    EMBEDDING,
    FEATURES,
    FORMAT,
    INPUT,
    LOGIT,
    ORIENTATION,
    WEIGHTS_KEY,
    OnnxModel,
    Outputs,
)
from training.gradcam import grad_cam

# ONNX opset 17: read by every ONNX Runtime since 1.11, so the app's pin can move without re-exporting.
OPSET = 17
# Probabilities and logits in float32 through two different kernels agree to ~1e-5; heatmaps to ~1e-6.
PARITY_TOLERANCE = 1e-4


def head_weight_name(cam_layer: str) -> str:
    """The head whose weights make a member's CAM: ``members.2.features.4`` -> ``members.2.head.weight``.

    Every network the training package builds is ``features`` -> global average pool -> ``head`` (one logit):
    the property that makes Grad-CAM a class activation map (core/gradcam.py)."""
    prefix = cam_layer.rsplit("features", 1)[0]
    return f"{prefix}head.weight"


class _Exported(nn.Module):
    """The model's ``outputs`` plus the CAM layers' outputs, captured by hooks while tracing."""

    def __init__(self, model: nn.Module, cam_layers: list[str]) -> None:
        super().__init__()
        self.model = model
        self.cam_layers = cam_layers

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        captured: list[torch.Tensor] = []
        handles = [self.model.get_submodule(name).register_forward_hook(
            lambda _m, _i, output: captured.append(output)) for name in self.cam_layers]
        try:
            logits, embedding, orientation = self.model.outputs(x)  # type: ignore[operator]
        finally:
            for handle in handles:
                handle.remove()
        heads = (orientation,) if orientation is not None else ()
        return (logits, embedding, *heads, *captured)


def _has_orientation(model: nn.Module, size: int) -> bool:
    with torch.inference_mode():
        return model.outputs(torch.zeros(1, 1, size, size))[2] is not None  # type: ignore[operator]


def exportable(model: nn.Module) -> nn.Module:
    """``model`` itself when it is on the CPU in eval mode, else a CPU copy in eval mode: a model saved straight
    after (GPU) training is exported and checked where and as the app runs it, and the caller's model is neither
    moved nor switched out of training mode."""
    if not model.training and all(p.device.type == "cpu" for p in model.parameters()):
        return model
    return copy.deepcopy(model).cpu().eval()


def runtime_bytes(model: nn.Module, card: ModelCard, weights_sha256: str) -> bytes:
    """The ONNX export of ``model`` (eval mode), its metadata pinning ``weights_sha256``."""
    import onnx

    model = exportable(model)
    size, layers = card.input_size, card.cam_layers
    names = [LOGIT, EMBEDDING] + ([ORIENTATION] if _has_orientation(model, size) else [])
    names += [f"{FEATURES}{i}" for i in range(len(layers))]
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the torch.export one, which needs onnxscript and
        # gives the same graph for this network; the deprecation notice is not a problem with the export.
        warnings.simplefilter("ignore", DeprecationWarning)
        # The wrapper is put in eval mode too: the exporter restores the wrapper's own mode afterwards, which
        # for a fresh (training-mode) module would leave the model's batch norms in training mode.
        torch.onnx.export(_Exported(model, layers).eval(), (torch.zeros(2, 1, size, size),), buffer,
                          input_names=[INPUT], output_names=names, opset_version=OPSET, dynamo=False,
                          dynamic_axes={name: {0: "batch"} for name in [INPUT, *names]})
    graph = onnx.load_from_string(buffer.getvalue())
    meta = {WEIGHTS_KEY: weights_sha256, CAM_WEIGHTS_KEY: json.dumps([head_weight_name(n) for n in layers]),
            "model": card.display_name, "exported_with": f"torch {torch.__version__}, opset {OPSET}"}
    onnx.helper.set_model_props(graph, meta)
    return bytes(graph.SerializeToString())


def _with_heads(model: nn.Module, data: bytes) -> OnnxModel:
    runtime = OnnxModel(data)
    state = model.state_dict()
    runtime.head_weights = [state[n].detach().float().reshape(-1).numpy() for n in runtime.cam_weight_names]
    return runtime


def runtime_of(model: nn.Module, card: ModelCard, weights_sha256: str = "") -> OnnxModel:
    """The app's runtime for ``model`` without writing a file (parity checks, tests)."""
    model = exportable(model)
    return _with_heads(model, runtime_bytes(model, card, weights_sha256))


class TorchReference:
    """The torch model behind the app's runtime interface (``run``), with the autograd Grad-CAM: a Predictor
    built on it scores exactly as the app did before the ONNX runtime, so parity checks compare whole
    predictions (gate, orientation correction and inversion retry included), not only forward passes."""

    def __init__(self, model: nn.Module, cam_layers: list[str]) -> None:
        self.model = model.eval()
        self.cam_layers = cam_layers

    def run(self, x: np.ndarray, heatmap: bool) -> Outputs:
        tensor = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        if heatmap:
            logits, embedding, orientation, cams = grad_cam(self.model, tensor, self.cam_layers)
        else:
            with torch.inference_mode():
                logits, embedding, orientation = self.model.outputs(tensor)  # type: ignore[operator]
            cams = None
        return (logits.numpy(), embedding.numpy(), None if orientation is None else orientation.numpy(), cams)


def parity_inputs(size: int, count: int = 4, seed: int = 0) -> np.ndarray:
    """Random smooth films, standardised as the model input is, plus a turned copy (the orientation head)."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((count, 1, 8, 8), dtype=np.float32)
    x = torch.nn.functional.interpolate(torch.from_numpy(coarse), size=(size, size), mode="bilinear").numpy()
    x = x + 0.1 * rng.standard_normal(x.shape, dtype=np.float32)
    x[-1] = np.rot90(x[0], 1, axes=(-2, -1))
    return ((x - x.mean(axis=(2, 3), keepdims=True)) / x.std(axis=(2, 3), keepdims=True)).astype(np.float32)


def parity_gaps(model: nn.Module, runtime: OnnxModel, card: ModelCard, x: np.ndarray) -> dict[str, float]:
    """Max abs difference of each output between the runtime and torch (CAMs: against autograd Grad-CAM)."""
    logits, embedding, orientation, cams = runtime.run(x, heatmap=True)
    t_logits, t_embedding, t_orientation, t_cams = grad_cam(model, torch.from_numpy(x), card.cam_layers)
    gaps = {"logit": float(np.abs(logits - t_logits.numpy()).max()),
            "embedding": float(np.abs(embedding - t_embedding.numpy()).max()),
            "cam": float(np.abs(np.asarray(cams) - t_cams).max())}
    if t_orientation is not None and orientation is not None:
        gaps["orientation"] = float(np.abs(orientation - t_orientation.numpy()).max())
    elif (t_orientation is None) != (orientation is None):
        gaps["orientation"] = float("inf")
    return gaps


def export_runtime(model: nn.Module, card: ModelCard, directory: Path,
                   log: Callable[[str], Any] = lambda _m: None) -> dict[str, Any]:
    """Write ``directory``/model.onnx for ``model`` (whose weights file the card already pins), after checking it
    against the torch model; set and return ``card.runtime``. The caller writes the card."""
    model = exportable(model)
    data = runtime_bytes(model, card, card.weights_sha256)
    gaps = parity_gaps(model, _with_heads(model, data), card, parity_inputs(card.input_size))
    if max(gaps.values()) > PARITY_TOLERANCE:
        raise RuntimeError(f"the ONNX export does not reproduce the torch model: max abs differences {gaps}")
    atomic_write_bytes(Path(directory) / RUNTIME_FILENAME, data)
    card.runtime = {"file": RUNTIME_FILENAME, "format": FORMAT, "sha256": sha256_bytes(data)}
    log(f"runtime export {RUNTIME_FILENAME} checked against torch (max abs differences: "
        + ", ".join(f"{k} {v:.1e}" for k, v in gaps.items()) + ")")
    return card.runtime
