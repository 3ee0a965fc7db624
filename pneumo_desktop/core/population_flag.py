"""The adult-film flag: a film whose age is unknown, judged by the model's own embedding to look like an adult's.

The model was made for children aged 1-5. A DICOM with PatientAge or PatientBirthDate is judged by its tags
(core/score_warnings.py); a PNG/JPEG, or a DICOM without either, has no age, and 61 % of adult films used to be
scored with no warning at all. A linear probe on the gate embedding (fitted by training/adult_flag.py, stored
beside the model in ``adult_flag.json``) says when such a film looks like an adult's. The film is still scored
(the reader may want the number), with a warning that says why the number may not hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pneumo_desktop.core.scoring_notes import ADULT_LOOK_WARNING

FLAG_FILENAME = "adult_flag.json"
__all__ = ["ADULT_LOOK_WARNING", "FLAG_FILENAME", "AdultFlag"]


@dataclass(frozen=True)
class AdultFlag:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    model_fingerprint: str

    @classmethod
    def load(cls, path: Path) -> AdultFlag:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version") != 1:
            raise ValueError(f"{path.name}: unknown format {data.get('format_version')!r}")
        mean, scale, coef = (np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef"))
        if not mean.shape == scale.shape == coef.shape or mean.ndim != 1:
            raise ValueError(f"{path.name}: mean, scale and coef differ in shape")
        return cls(mean, scale, coef, float(data["intercept"]), float(data["threshold"]),
                   str(data["model_fingerprint"]))

    @classmethod
    def beside(cls, model_dir: Path, fingerprint: str) -> AdultFlag | None:
        """The flag stored with a model, when it was fitted on this model's embedding; else None (no flag)."""
        path = model_dir / FLAG_FILENAME
        if not path.is_file():
            return None
        try:
            flag = cls.load(path)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return flag if flag.model_fingerprint == fingerprint else None

    def score(self, embedding: np.ndarray) -> float:
        x = (np.asarray(embedding, dtype=np.float64) - self.mean) / self.scale
        return float(x @ self.coef + self.intercept)

    def looks_adult(self, embedding: np.ndarray) -> bool:
        if embedding.shape != self.coef.shape:
            return False
        return self.score(embedding) > self.threshold
