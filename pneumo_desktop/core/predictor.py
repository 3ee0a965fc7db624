"""Loads the bundled model once and turns LoadedImages into calibrated predictions."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pneumo_desktop import paths
from pneumo_desktop.core import gate
from pneumo_desktop.core.gate import TURN
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.model_card import CARD_FILENAME, WEIGHTS_FILENAME, ModelCard
from pneumo_desktop.core.orientation import describe, inverse_orientation, orient
from pneumo_desktop.core.population_flag import ADULT_LOOK_WARNING, AdultFlag
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.core.preprocess import preprocess
from pneumo_desktop.core.runtime import OnnxModel, Outputs, Runtime
from pneumo_desktop.core.score_warnings import age_in_years
from pneumo_desktop.core.scoring_notes import (
    MIRRORED_WARNING,
    NEGATIVE_WARNING,
    ORIENTATION_NOTE,
    UNUSUAL_WARNING,
    displayed_note,
)
from pneumo_desktop.core.weights import ood_arrays, read_verified

POSITIVE, NEGATIVE = "PNEUMONIA", "NORMAL"
# Refusals made on the pixels, which a wrong photometric tag alone can cause (the inversion retry's business).
PIXEL_REFUSALS = {"out_of_distribution", "not_upright"}


def calibrated_probability(logit: float, temperature: float) -> float:
    z = logit / temperature
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


class Predictor:
    """Not thread-safe: the GUI serialises access on one worker thread."""

    def __init__(self, card: ModelCard, runtime: Runtime, ood: dict[str, np.ndarray],
                 adult_flag: AdultFlag | None = None) -> None:
        self.card = card
        self.runtime = runtime
        self.gate = gate.Gate.from_card(card, ood)
        self.adult_flag = adult_flag  # None: no flag fitted on this model's embedding

    @classmethod
    def load(cls, directory: Path | None = None, threads: int | None = None) -> Predictor:
        """The model in ``directory`` (default: the bundled one): card, weights and runtime export, each checked
        against the others. ``threads``: inference threads (default: ONNX Runtime's, one per physical core)."""
        directory = Path(directory) if directory is not None else paths.models_dir()
        card = ModelCard.read(directory / CARD_FILENAME)
        tensors = read_verified(directory / WEIGHTS_FILENAME, card)
        return cls(card, OnnxModel.load(directory, card, tensors, threads), ood_arrays(tensors),
                   AdultFlag.beside(directory, card.fingerprint))

    @property
    def size(self) -> int:
        return self.card.input_size

    def input_tensor(self, images: Sequence[LoadedImage]) -> np.ndarray:
        """The model input (N, 1, S, S) float32 of ``images``."""
        return np.stack([preprocess(im.pixels, self.size) for im in images])

    def _forward(self, x: np.ndarray, heatmap: bool) -> Outputs:
        """THE forward pass: everything the app scores goes through here (core/runtime.py)."""
        return self.runtime.run(x, heatmap)

    def _result(self, image: LoadedImage, x: np.ndarray, out: Outputs, row: int, started: float,
                heatmap: bool, displayed: int | None = None) -> Prediction:
        """The gate's decision and, when it lets the film through, the calibrated probability.

        A film the orientation head confidently reads as rotated or upside down is scored once more, turned
        upright, with a warning that says so (its heatmap is turned back onto the film as shown), provided it
        then reads as upright; an unsure head refuses (Gate.unsure). A left-right mirror is scored flipped back,
        with a warning rather than a refusal: a flipped export and dextrocardia look alike, the clinician judges
        which, and either way the model reads the heart on the side it was trained on (benchmarks/gate_ood.py:
        scored as displayed, a mirrored film's probability moved by up to 0.73).

        ``displayed``: the clinician turned the film in the viewer (ORIENTATIONS index) and asked to score it
        as displayed; the orientation head is then not consulted, the distance check still is, and the
        heatmap is turned back onto the stored image.
        """
        logits, embeddings, orientations, cams = out
        trusted = displayed is not None
        call = None if trusted else self.gate.orientation(orientations[row] if orientations is not None else None)
        notes: list[str] = []
        cam = cams[row] if cams is not None else None
        if trusted and cam is not None and displayed:
            cam = np.ascontiguousarray(orient(cam, inverse_orientation(displayed)))
        if displayed is not None:
            notes.append(displayed_note(displayed))
        unsure = self.gate.unsure(call) if call is not None else None
        if unsure is not None:
            return self._rejected(unsure, started, displayed=displayed)
        if call is not None and call.index != 0:
            upright = orient(x[row:row + 1], inverse_orientation(call.index))
            fixed = self._forward(upright, heatmap)
            again = self.gate.orientation(fixed[2][0] if fixed[2] is not None else None)
            if again is not None and (TURN[again.index] != 0 or self.gate.unsure(again) is not None):
                return self._rejected(self.gate.not_upright(call), started, displayed=displayed)
            logits, embeddings, row = fixed[0], fixed[1], 0
            cam = None if fixed[3] is None else np.ascontiguousarray(orient(fixed[3][0], call.index))
            if call.name == "mirrored" or (again is not None and again.name == "mirrored"):
                notes.append(MIRRORED_WARNING)
            if call.name != "mirrored":
                notes.append(f"{ORIENTATION_NOTE} the film appeared {call.describe()} and was scored turned "
                             "upright. Check the orientation of the film as displayed.")
        score = self.gate.ood_score(embeddings[row])
        rejection, unusual = self.gate.distance_check(score)
        if rejection is not None:
            return self._rejected(rejection, started, score, displayed=displayed)
        if unusual:
            notes.append(UNUSUAL_WARNING)
        flag = self.adult_flag
        if flag is not None and age_in_years(image.metadata) is None and flag.looks_adult(embeddings[row]):
            notes.append(ADULT_LOOK_WARNING)
        for note in notes:
            if note not in image.warnings:
                image.warnings.append(note)
        card = self.card
        logit = float(logits[row])
        probability = calibrated_probability(logit, card.temperature)
        return Prediction(
            probability=probability, label=POSITIVE if probability >= card.threshold else NEGATIVE,
            threshold=card.threshold, model=card.display_name, model_sha256=card.fingerprint,
            elapsed_ms=(time.perf_counter() - started) * 1000.0, cam=cam, ood_score=score, logit=logit,
            displayed=displayed,
        )

    def predict(self, image: LoadedImage, *, heatmap: bool = True, displayed: int | None = None) -> Prediction:
        """Score one image. ``displayed`` (an ORIENTATIONS index): score it turned as the viewer shows it,
        the reader's orientation trusted over the model's (the window's "Score as Displayed")."""
        result = self._predict_one(image, heatmap, displayed=displayed)
        return self._retry_as_negative(image, result, heatmap, displayed)

    def _retry_as_negative(self, image: LoadedImage, result: Prediction, heatmap: bool,
                           displayed: int | None = None) -> Prediction:
        """A film that is out of distribution only because its polarity is wrong is scored inverted, with a warning.

        Real archives hold MONOCHROME2 pixels tagged MONOCHROME1 (and the reverse); the header gives no way to tell,
        but the image statistics do. Only an inverted image that lands clearly inside the training films (a
        margin below the warning threshold) is scored: a terrain map or a document that merely scrapes past
        the threshold once inverted stays refused. The warning goes on the image, so every record carries it.
        """
        if result.rejected is None or result.rejected.code not in PIXEL_REFUSALS:
            return result
        before = list(image.warnings)
        retry = self._predict_one(image, heatmap, inverted=True, displayed=displayed)
        if retry.rejected is not None or not self.gate.clearly_in_distribution(retry.ood_score):
            image.warnings[:] = before  # what the failed retry noted is not about this image
            return result
        if NEGATIVE_WARNING not in image.warnings:
            image.warnings.insert(len(before), NEGATIVE_WARNING)
        return retry

    def _predict_one(self, image: LoadedImage, heatmap: bool, inverted: bool = False,
                     displayed: int | None = None) -> Prediction:
        """``inverted`` scores 1 - pixels without making that full-size copy: resizing is linear and the
        standardisation odd, so the model input of the inverted image is exactly minus the input."""
        started = time.perf_counter()
        early = self.gate.check_image(image)
        if early is not None:
            return self._rejected(early, started, displayed=displayed)
        x = self.input_tensor([image])
        if inverted:
            x = -x
        if displayed:
            x = np.ascontiguousarray(orient(x, displayed))
        return self._result(image, x, self._forward(x, heatmap), 0, started, heatmap, displayed)

    def predict_batch(self, images: Sequence[LoadedImage]) -> list[Prediction]:
        """Scores without heatmaps, one forward pass for the whole batch (folder mode)."""
        started = time.perf_counter()
        results: list[Prediction | None] = [None] * len(images)
        todo = []
        for i, image in enumerate(images):
            early = self.gate.check_image(image)
            if early is not None:
                results[i] = self._rejected(early, started)
            else:
                todo.append(i)
        if todo:
            x = self.input_tensor([images[i] for i in todo])
            out = self._forward(x, heatmap=False)
            for j, i in enumerate(todo):
                results[i] = self._result(images[i], x, out, j, started, heatmap=False)
        for i, r in enumerate(results):
            assert r is not None
            results[i] = self._retry_as_negative(images[i], r, heatmap=False)
        per_image = (time.perf_counter() - started) * 1000.0 / max(len(images), 1)
        for r in results:
            assert r is not None
            r.elapsed_ms = per_image
        return [r for r in results if r is not None]

    def _rejected(self, rejection: gate.Rejection, started: float, ood_score: float | None = None, *,
                  displayed: int | None = None) -> Prediction:
        if displayed is not None:  # the refusal concerns the reader's orientation, not the film as stored
            rejection = gate.Rejection(rejection.code, f"in the orientation you set ({describe(displayed)}), "
                                                       f"{rejection.reason}", rejection.detail)
        return Prediction(
            probability=None, label=None, threshold=self.card.threshold, model=self.card.display_name,
            model_sha256=self.card.fingerprint, elapsed_ms=(time.perf_counter() - started) * 1000.0,
            rejected=rejection, ood_score=ood_score, displayed=displayed,
        )
