"""The gate: what the model must not score, decided before a probability is shown.

Order: DICOM tags (a *missing* or empty tag never refuses), colour, size; then what the network itself says
of the pixels:

- its orientation head, trained self-supervised on chest films, must be confident (``min_confidence``) about
  which of the eight flips/turns the film is in. On real chest films, rotated or not, it is; on CT/MR slices,
  screenshots and other images it is not, which makes it the gate's main "is this a chest film" test;
- the Mahalanobis distance of its pooled features to the training films (parameters stored with the weights):
  past ``warn`` a film is scored with an "unusual image" warning, past ``refuse`` it is refused.

Codes are stable strings for the CLI, the GUI and the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.orientation import ORIENTATIONS
from pneumo_desktop.core.prediction import Rejection

MIN_SIDE = 64
# Modalities that produce projection chest radiographs. "OT"/secondary capture is common for converted
# files, so only modalities that are clearly something else are refused.
ACCEPTED_MODALITIES = {"CR", "DX", "DR", "RG", "OT", "SC", "XC"}
LATERAL_VIEWS = {"LL", "RL", "LATERAL", "LAT", "LLD", "RLD"}
# BodyPartExamined values (DICOM defined terms and common free text) that are clearly not the chest. Anything
# else, including an empty or unknown value, is left to the pixels.
NOT_CHEST_PARTS = {
    "SKULL", "HEAD", "BRAIN", "FACE", "SINUS", "JAW", "TMJ", "NECK", "CSPINE", "LSPINE", "SSPINE", "TLSPINE",
    "SACRUM", "COCCYX", "PELVIS", "HIP", "ABDOMEN", "KIDNEY", "BLADDER", "PROSTATE", "KNEE", "LEG", "FEMUR",
    "TIBIA", "FIBULA", "ANKLE", "FOOT", "HEEL", "TOE", "SHOULDER", "HUMERUS", "ARM", "ELBOW", "FOREARM",
    "WRIST", "HAND", "FINGER", "EXTREMITY", "BREAST", "EYE", "EAR", "ORBIT", "UTERUS", "OVARY", "TESTIS",
}
COLOURFULNESS_LIMIT = 0.08  # mean chroma (0..1) above which a photo is not a radiograph

DEGREES = {"rot90": 90, "rot180": 180, "rot270": 270}
# Each orientation's turn once a left-right mirror is undone: upright/mirrored, rot90/transposed, ... A mirror
# is what the head finds hardest to see (the heart's side is the only cue), so confidence is about the turn.
TURN = (0, 1, 2, 3, 0, 2, 1, 3)


def turn_confidence(probs: np.ndarray) -> np.ndarray:
    """(..., 8) orientation probabilities -> (..., 4) probabilities of each turn, mirrored or not."""
    out = np.zeros((*probs.shape[:-1], 4), dtype=probs.dtype)
    for index, turn in enumerate(TURN):
        out[..., turn] += probs[..., index]
    return out


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)

# The refusal in a clinician's words; the measurement behind it goes to Rejection.detail (issue 24 B8).
NOT_LIKE_TRAINING = ("the image does not look like a frontal chest film the model was trained on (it may be a "
                     "lateral view, a CT/MR slice, a screenshot or a photo).")
__all__ = ["Gate", "Rejection", "OrientationCall"]


@dataclass(frozen=True)
class OrientationCall:
    """What the orientation head says of a film: ``index`` into ORIENTATIONS and how sure it is."""

    index: int
    probability: float

    @property
    def name(self) -> str:
        return ORIENTATIONS[self.index]

    def describe(self) -> str:
        if self.name in DEGREES:
            return f"rotated by {DEGREES[self.name]}° (counter-clockwise)"
        return {"upside_down": "upside down", "transposed": "rotated and mirrored",
                "antitransposed": "rotated and mirrored", "mirrored": "mirrored left-right"}.get(self.name, self.name)


def _body_part(meta: dict[str, Any]) -> str:
    return str(meta.get("body_part") or "").strip().upper().replace(" ", "")


@dataclass
class Gate:
    ood_mean: np.ndarray | None = None
    ood_precision: np.ndarray | None = None
    refuse_threshold: float | None = None
    warn_threshold: float | None = None
    # An inverted retry is scored only if its distance is below this fraction of ``warn_threshold``.
    inversion_margin: float = 1.0
    # The orientation head's probability for its answer must reach this, else the film is refused.
    min_confidence: float = 0.9

    @classmethod
    def from_card(cls, card: Any, ood: dict[str, np.ndarray]) -> Gate:
        params = card.ood or {}
        gate = cls(min_confidence=float(params.get("min_orientation_confidence", 0.9)),
                   inversion_margin=float(params.get("inversion_margin", 1.0)))
        if "mean" in ood and "precision" in ood and params.get("threshold") is not None:
            gate.ood_mean = np.asarray(ood["mean"], dtype=np.float32)
            gate.ood_precision = np.asarray(ood["precision"], dtype=np.float32)
            gate.refuse_threshold = float(params["threshold"])
            gate.warn_threshold = float(params.get("warn_threshold", params["threshold"]))
        return gate

    def check_image(self, image: LoadedImage) -> Rejection | None:
        """Checks that need no model."""
        meta = image.metadata
        modality = str(meta.get("modality") or "").strip().upper()
        if modality and modality not in ACCEPTED_MODALITIES:
            return Rejection(
                "not_radiograph",
                f"DICOM modality is {modality}; the model reads only projection radiographs (CR/DX).",
            )
        view = str(meta.get("view_position") or "").strip().upper()
        if view in LATERAL_VIEWS:
            return Rejection("not_frontal", f"DICOM view position is {view}; the model reads frontal (PA/AP) views only.")
        part = _body_part(meta)
        if part in NOT_CHEST_PARTS:
            return Rejection("body_part_not_chest",
                             f"DICOM body part examined is {part}; the model reads chest radiographs only.")
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

    def ood_score(self, embedding: np.ndarray) -> float | None:
        if self.ood_mean is None or self.ood_precision is None:
            return None
        d = np.asarray(embedding, dtype=np.float32) - self.ood_mean
        return float(np.sqrt(max(float(d @ self.ood_precision @ d), 0.0)))

    def orientation(self, orientation_logits: np.ndarray | None) -> OrientationCall | None:
        """The head's answer (None for a model without an orientation head): the most probable turn, with its
        probability summed over mirrored and not, and within it the more probable of the two."""
        if orientation_logits is None:
            return None
        probs = softmax(np.asarray(orientation_logits, dtype=np.float32))
        turns = turn_confidence(probs)
        turn = int(np.argmax(turns))
        pair = [i for i, t in enumerate(TURN) if t == turn]
        best = max(pair, key=lambda i: float(probs[i]))
        return OrientationCall(best, float(turns[turn]))

    def unsure(self, call: OrientationCall) -> Rejection | None:
        """A refusal when the head cannot tell which way up the image is: a chest film it could read would not
        leave it unsure, so this is a CT/MR slice, a screenshot, a lateral view, or a film turned at an angle."""
        if call.probability >= self.min_confidence:
            return None
        if TURN[call.index] == 0:
            return Rejection(
                "out_of_distribution", NOT_LIKE_TRAINING,
                f"orientation confidence {call.probability:.2f} < {self.min_confidence:.2f}",
            )
        return Rejection(
            "not_upright",
            f"the image may be a film {call.describe()}, or not a frontal chest radiograph at all: the model "
            "cannot tell which way up it is. If it is a chest film, rotate or flip it in the viewer until it is "
            "upright and score it as displayed.",
        )

    def not_upright(self, call: OrientationCall) -> Rejection:
        return Rejection(
            "not_upright",
            f"the film appears {call.describe()} and still does not read as upright once turned; rotate or flip "
            "it in the viewer until it is upright and score it as displayed.",
        )

    def distance_check(self, score: float | None) -> tuple[Rejection | None, bool]:
        """(refusal, unusual): refused past the refuse threshold, scored with a warning past the warn one."""
        if score is None or self.refuse_threshold is None:
            return None, False
        if score > self.refuse_threshold:
            return Rejection(
                "out_of_distribution", NOT_LIKE_TRAINING,
                f"distance from the training films {score:.1f} > {self.refuse_threshold:.1f}",
            ), False
        return None, self.warn_threshold is not None and score > self.warn_threshold

    def clearly_in_distribution(self, score: float | None) -> bool:
        """For the inverted retry: far enough inside, never at the threshold's edge."""
        if score is None or self.warn_threshold is None:
            return False
        return score <= self.inversion_margin * self.warn_threshold
