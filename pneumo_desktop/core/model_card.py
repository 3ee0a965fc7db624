"""The model card: the JSON contract between training and the app (one schema, versioned)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pneumo_desktop.core.errors import ModelLoadError

# 2: the decision fields are pinned by the weights file (tamper-evident card), orientation head, ensembles.
FORMAT_VERSION = 2
CARD_FILENAME = "model_card.json"
WEIGHTS_FILENAME = "model.safetensors"
RUNTIME_FILENAME = "model.onnx"
# Every field that changes what the app decides for an image. Their canonical JSON's sha256 is stored inside
# the weights file, whose own sha256 the card pins, so editing any of them (or the weights) is detected on load.
DECISION_FIELDS = ("format_version", "name", "version", "architecture", "preprocess", "output", "class_names",
                   "cam_layer", "ood", "site_calibration")
REQUIRED_KEYS = (
    "format_version", "name", "version", "architecture", "preprocess", "output", "class_names",
    "cam_layer", "intended_population", "metrics", "ood", "data_fingerprint", "config", "git_commit",
    "weights_sha256",
)


@dataclass
class ModelCard:
    name: str
    version: str
    architecture: dict[str, Any]  # {"name": ..., "arguments": {...}}
    preprocess: dict[str, Any]  # {"size", "resample", "normalisation"}
    output: dict[str, Any]  # {"temperature", "threshold", "positive_if": "p >= threshold"}
    class_names: list[str] = field(default_factory=lambda: ["NORMAL", "PNEUMONIA"])
    cam_layer: str | list[str] = "features.4"  # a list for an ensemble: one CAM layer per member
    intended_population: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=lambda: {"validation": None, "test": None})
    ood: dict[str, Any] | None = None
    data_fingerprint: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    git_commit: str = ""
    weights_sha256: str = ""
    format_version: int = FORMAT_VERSION
    site_calibration: dict[str, Any] | None = None  # set by `pneumo-train calibrate`
    # The inference export the app runs: {"file", "format", "sha256"}, pinned here like the weights; the export
    # pins the weights in turn (core/runtime.py). Not a decision field: re-exporting leaves the weights as they are.
    runtime: dict[str, Any] | None = None

    @property
    def fingerprint(self) -> str:
        """THE model fingerprint shown everywhere (--version, audit log, reports): the weights file's sha256,
        which covers the weights and, through the digest stored in the file, every decision field of the card."""
        return self.weights_sha256

    @property
    def cam_layers(self) -> list[str]:
        return [self.cam_layer] if isinstance(self.cam_layer, str) else list(self.cam_layer)

    def decision_digest(self) -> str:
        data = self.to_dict()
        canonical = json.dumps({k: data.get(k) for k in DECISION_FIELDS}, sort_keys=True, separators=(",", ":"),
                               ensure_ascii=True, allow_nan=False)
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()

    @property
    def display_name(self) -> str:
        """Name and version, and the site when the card was recalibrated there: every panel, report, record
        and audit line that names the model then says that a site-calibrated card is in use."""
        base = f"{self.name} {self.version}"
        if self.site_calibration:
            site = self.site_calibration.get("site_name", "a site")
            date = str(self.site_calibration.get("date_utc", ""))[:10]
            return f"{base} (site-calibrated: {site}, {date})"
        return base

    @property
    def temperature(self) -> float:
        return float(self.output["temperature"])

    @property
    def threshold(self) -> float:
        return float(self.output["threshold"])

    @property
    def input_size(self) -> int:
        return int(self.preprocess["size"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "model card") -> ModelCard:
        if not isinstance(data, dict):
            raise ModelLoadError(f"{source} is not a JSON object")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ModelLoadError(
                f"{source} has format_version {version!r}; this app reads version {FORMAT_VERSION}. "
                "Install the model that ships with this version of the app."
            )
        missing = [k for k in REQUIRED_KEYS if k not in data]
        if missing:
            raise ModelLoadError(f"{source} is missing required fields: {', '.join(missing)}")
        output = data["output"]
        if output.get("positive_if") != "p >= threshold":
            raise ModelLoadError(f"{source}: unsupported decision rule {output.get('positive_if')!r}")
        try:
            t, thr = float(output["temperature"]), float(output["threshold"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelLoadError(f"{source}: output needs numeric temperature and threshold") from exc
        if not (t > 0 and 0.0 < thr < 1.0):
            raise ModelLoadError(f"{source}: temperature must be > 0 and threshold in (0, 1)")
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    @classmethod
    def read(cls, path: Path) -> ModelCard:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelLoadError(f"model card not found: {Path(path).name}") from exc
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"model card {Path(path).name} is not readable JSON: {exc}") from exc
        return cls.from_dict(data, source=f"model card {Path(path).name}")

    def write(self, path: Path) -> None:
        from pneumo_desktop.core.atomic import atomic_write_text

        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n")
