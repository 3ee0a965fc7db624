"""The network at inference: the ONNX export of the trained model, run by ONNX Runtime (no torch in the app).

The export (training/runtime_export.py) has one input, ``input`` (N, 1, S, S), and the outputs ``logit`` (N,),
``embedding`` (N, C) for the gate, ``orientation`` (N, 8) when the model has an orientation head, and
``features.<i>`` (N, C_i, h, w), each member's CAM-layer output, from which the heatmap is computed
(core/gradcam.py) with the head weights named in the export's metadata.

Pinning: the card holds the export's sha256 (as it holds the weights'), and the export's metadata holds the
weights file's sha256, so an export from other weights, or an edited one, is refused on load.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pneumo_desktop.core.errors import ModelLoadError
from pneumo_desktop.core.gradcam import class_activation_maps
from pneumo_desktop.core.hashing import sha256_bytes
from pneumo_desktop.core.model_card import RUNTIME_FILENAME, ModelCard

FORMAT = "onnx"
INPUT = "input"
LOGIT, EMBEDDING, ORIENTATION, FEATURES = "logit", "embedding", "orientation", "features."
# Keys of the export's metadata (ONNX metadata_props).
WEIGHTS_KEY = "weights_sha256"
CAM_WEIGHTS_KEY = "cam_head_weights"  # JSON list: the weights-file tensor of each member's head, in order
REEXPORT_HINT = "Reinstall the application, or re-export it with `pneumo-train export-onnx`; images can still be viewed."
# (logits (N,), gate embeddings (N, C), orientation logits (N, 8) or None, CAMs (N, h, w) or None)
Outputs = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]


class Runtime(Protocol):
    """What the Predictor runs: OnnxModel in the app; training.runtime_export.TorchReference in parity checks."""

    def run(self, x: np.ndarray, heatmap: bool) -> Outputs: ...


def onnxruntime() -> Any:
    """The onnxruntime module, imported with its telemetry off.

    ONNX Runtime 1.32 on Linux writes a device id and an event database under ~/.cache/Microsoft and a file in
    the temp folder at import, for Microsoft's telemetry (its OneDS client names mobile.events.data.microsoft.com).
    A clinical workstation's app must not identify the machine to a third party or write outside its own folders,
    so the switch is set before the first import; it is read then, not per session.
    """
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import onnxruntime as ort

    return ort


def session_options(threads: int | None) -> Any:
    ort = onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 0  # 0: ONNX Runtime's default, one thread per physical core
    options.inter_op_num_threads = 1
    # Idle pool threads would otherwise spin for a while after each run, taking the core the window paints on.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # warnings about unused initialisers are for the exporter, not the user
    return options


class OnnxModel:
    """One ONNX Runtime session and the heads' weights for the heatmap. ``run`` is THE forward pass."""

    def __init__(self, model_bytes: bytes, head_weights: list[np.ndarray] | None = None,
                 threads: int | None = None) -> None:
        ort = onnxruntime()
        try:
            self.session = ort.InferenceSession(model_bytes, session_options(threads),
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types, all "not a model"
            raise ModelLoadError(f"runtime model {RUNTIME_FILENAME} is not a valid ONNX model. {REEXPORT_HINT}") from exc
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        names = [o.name for o in self.session.get_outputs()]
        self.has_orientation = ORIENTATION in names
        self.feature_names = sorted((n for n in names if n.startswith(FEATURES)), key=lambda n: int(n[len(FEATURES):]))
        self.head_weights = head_weights
        if head_weights is not None and len(head_weights) != len(self.feature_names):
            raise ModelLoadError(f"runtime model {RUNTIME_FILENAME} has {len(self.feature_names)} feature outputs "
                                 f"for {len(head_weights)} heads. {REEXPORT_HINT}")

    @property
    def cam_weight_names(self) -> list[str]:
        return list(json.loads(self.metadata.get(CAM_WEIGHTS_KEY, "[]")))

    @classmethod
    def load(cls, directory: Path, card: ModelCard, weights: dict[str, np.ndarray],
             threads: int | None = None) -> OnnxModel:
        """The export beside the card, refused unless it is the one the card pins and was made from the very
        weights file the card pins (``weights``: that file's tensors, already verified)."""
        entry = card.runtime or {}
        if entry.get("format") != FORMAT or not entry.get("file") or not entry.get("sha256"):
            raise ModelLoadError(f"the model card names no runtime model (ONNX export). {REEXPORT_HINT}")
        path = Path(directory) / Path(str(entry["file"])).name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelLoadError(f"runtime model {path.name} cannot be read: {exc.strerror}. {REEXPORT_HINT}") from exc
        digest = sha256_bytes(data)
        if digest != entry["sha256"]:
            raise ModelLoadError(
                f"runtime model {path.name} does not match its model card (sha256 {digest[:12]}... expected "
                f"{str(entry['sha256'])[:12]}...): it is damaged or was replaced. {REEXPORT_HINT}"
            )
        model = cls(data, threads=threads)
        if model.metadata.get(WEIGHTS_KEY) != card.weights_sha256:
            raise ModelLoadError(
                f"runtime model {path.name} was exported from other weights than {card.weights_sha256[:12]}... "
                f"(the weights file its card pins). {REEXPORT_HINT}"
            )
        try:
            heads = [np.asarray(weights[name], dtype=np.float32).reshape(-1) for name in model.cam_weight_names]
        except KeyError as exc:
            raise ModelLoadError(f"runtime model {path.name} names a head ({exc}) the weights file lacks. "
                                 f"{REEXPORT_HINT}") from exc
        if len(heads) != len(model.feature_names):
            raise ModelLoadError(f"runtime model {path.name} names {len(heads)} heads for "
                                 f"{len(model.feature_names)} feature maps. {REEXPORT_HINT}")
        model.head_weights = heads
        return model

    def run(self, x: np.ndarray, heatmap: bool) -> Outputs:
        """Logits, gate embeddings, orientation logits and (with ``heatmap``) the CAMs, from one pass."""
        wanted = [LOGIT, EMBEDDING] + ([ORIENTATION] if self.has_orientation else [])
        if heatmap:
            wanted += self.feature_names
        out = self.session.run(wanted, {INPUT: np.ascontiguousarray(x, dtype=np.float32)})
        logits, embeddings = out[0], out[1]
        orientation = out[2] if self.has_orientation else None
        cams = None
        if heatmap:
            if self.head_weights is None:
                raise ModelLoadError("the runtime model was loaded without its heads' weights: no heatmap")
            cams = class_activation_maps(out[len(out) - len(self.feature_names):], self.head_weights)
        return logits, embeddings, orientation, cams


def default_threads() -> int:
    """All cores but one, so the window's thread always has a core to paint on."""
    return max(1, (os.cpu_count() or 2) - 1)
