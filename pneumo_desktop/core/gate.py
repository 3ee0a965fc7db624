"""The "not a chest X-ray" gate: cheap, honest checks before a probability is shown.

Order: DICOM tags (a *missing* tag never rejects), colour, size, then a learned out-of-distribution score
on the CNN's pooled features (Mahalanobis distance to the training split, parameters stored with the
weights). Codes are stable strings for the CLI, the GUI and the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.prediction import Rejection

MIN_SIDE = 64
# Modalities that produce projection chest radiographs. "OT"/secondary capture is common for converted
# files, so only modalities that are clearly something else are rejected.
ACCEPTED_MODALITIES = {"CR", "DX", "DR", "RG", "OT", "SC", "XC"}
LATERAL_VIEWS = {"LL", "RL", "LATERAL", "LAT", "LLD", "RLD"}
COLOURFULNESS_LIMIT = 0.08  # mean chroma (0..1) above which a photo is not a radiograph

__all__ = ["Gate", "Rejection"]


@dataclass
class Gate:
    ood_mean: torch.Tensor | None = None
    ood_precision: torch.Tensor | None = None
    ood_threshold: float | None = None

    @classmethod
    def from_card(cls, card: Any, ood: dict[str, torch.Tensor]) -> Gate:
        params = card.ood or {}
        if "mean" in ood and "precision" in ood and params.get("threshold") is not None:
            return cls(ood["mean"].float(), ood["precision"].float(), float(params["threshold"]))
        return cls()

    def check_image(self, image: LoadedImage) -> Rejection | None:
        """Checks that need no model."""
        meta = image.metadata
        modality = str(meta.get("modality") or "").upper()
        if modality and modality not in ACCEPTED_MODALITIES:
            return Rejection(
                "modality_not_cr_dx",
                f"DICOM modality is {modality}; the model reads only projection radiographs (CR/DX).",
            )
        view = str(meta.get("view_position") or "").upper()
        if view in LATERAL_VIEWS:
            return Rejection("not_frontal", f"DICOM view position is {view}; the model reads frontal (PA/AP) views only.")
        rows, cols = image.shape
        if min(rows, cols) < MIN_SIDE:
            return Rejection("too_small", f"image is {cols}x{rows} pixels; at least {MIN_SIDE} px per side is needed.")
        colour = meta.get("colourfulness")
        if colour is not None and float(colour) > COLOURFULNESS_LIMIT:
            return Rejection(
                "colour_image",
                f"the image is in colour (colourfulness {float(colour):.2f}); a radiograph is grayscale.",
            )
        return None

    def ood_score(self, embedding: torch.Tensor) -> float | None:
        if self.ood_mean is None or self.ood_precision is None:
            return None
        d = embedding.float() - self.ood_mean
        return float(torch.sqrt(torch.clamp(d @ self.ood_precision @ d, min=0.0)))

    def check(self, image: LoadedImage, embedding: torch.Tensor) -> tuple[Rejection | None, float | None]:
        score = self.ood_score(embedding)
        if score is not None and self.ood_threshold is not None and score > self.ood_threshold:
            return (
                Rejection(
                    "out_of_distribution",
                    f"the image does not look like the frontal chest X-rays the model was trained on "
                    f"(distance {score:.1f} > {self.ood_threshold:.1f}).",
                ),
                score,
            )
        return None, score
