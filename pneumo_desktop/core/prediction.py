"""Result value objects of the predictor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Rejection:
    """Why an input was not scored: a stable string code plus a sentence for the user."""

    code: str
    reason: str
    # The measurement behind the refusal ("distance 106.0 > 45.6"): for a details line, not the headline.
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code, "reason": self.reason}
        if self.detail:
            out["detail"] = self.detail
        return out

    def details_line(self) -> str:
        """"code out_of_distribution; distance 106.0 > 45.6": what a details line or a support ticket needs."""
        return "; ".join(part for part in (f"code {self.code}", self.detail) if part)


@dataclass
class Prediction:
    probability: float | None  # calibrated P(pneumonia); None when rejected
    label: str | None  # "PNEUMONIA" / "NORMAL"; None when rejected
    threshold: float
    model: str  # "name version"
    model_sha256: str
    elapsed_ms: float
    rejected: Rejection | None = None
    cam: np.ndarray | None = None  # low-resolution Grad-CAM in [0, 1]; see gradcam.upsample_cam
    ood_score: float | None = None
    logit: float | None = None  # before temperature; what a site calibration refits
    # The reader's orientation (ORIENTATIONS index) when the film was scored as displayed; None when the model
    # chose the orientation itself. A result belongs to one orientation: the window, PDF and DICOM say which.
    displayed: int | None = None

    def heatmap(self, shape: tuple[int, int]) -> np.ndarray | None:
        """The Grad-CAM registered to an image of ``shape`` (rows, cols)."""
        if self.cam is None:
            return None
        from pneumo_desktop.core.gradcam import upsample_cam

        return upsample_cam(self.cam, shape)
