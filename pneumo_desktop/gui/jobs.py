"""The concrete background jobs. Each is a Worker; none touches a widget.

Image-pool jobs: ImageLoadWorker, CollectWorker. Model-pool jobs (one thread, so the Predictor is used
serially): ModelLoadWorker, PredictWorker, BatchChunkWorker. The loader, predictor, audit log and records
are imported inside ``work()`` so that importing this module never pulls in torch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import Signal

from pneumo_desktop.core.errors import PneumoError
from pneumo_desktop.gui.display_image import DisplayImage
from pneumo_desktop.gui.heatmap_overlay import heatmap_rgba
from pneumo_desktop.gui.model_session import ModelSession
from pneumo_desktop.gui.workers import Worker, WorkerSignals

THUMBNAIL_SIZE = 96  # kept per file for the batch PDF; the list shows it at 48 px
AUDIT_SOURCE = "gui"


def _load(path: Path) -> Any:
    from pneumo_desktop.core.loader import load_image

    return load_image(path)


def _audit(file_sha256: str, prediction: Any) -> bool:
    from pneumo_desktop.core import audit

    return bool(audit.record_prediction(file_sha256, prediction, source=AUDIT_SOURCE))


def thumbnail(pixels: np.ndarray, size: int = THUMBNAIL_SIZE) -> np.ndarray:
    """A small uint8 copy for the study list; the full image is not kept (1,000-file batches)."""
    from pneumo_desktop.core.heatmap_render import to_gray_uint8

    image = Image.fromarray(to_gray_uint8(pixels))
    image.thumbnail((size, size), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8).copy()


@dataclass
class PredictionResult:
    prediction: Any  # core.prediction.Prediction
    heatmap: np.ndarray | None  # RGBA overlay at the image's resolution
    audited: bool
    request_id: int


@dataclass
class BatchItemResult:
    index: int
    batch_id: int
    path: Path
    record: dict[str, Any]  # core.records.record_from(...)
    prediction: Any | None = None
    thumbnail: np.ndarray | None = None
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class ModelLoadWorker(Worker):
    def __init__(self, session: ModelSession) -> None:
        super().__init__()
        self._session = session

    def work(self) -> Any:
        return self._session.get().card


class ImageLoadWorker(Worker):
    def __init__(self, path: Path, request_id: int) -> None:
        super().__init__(request_id)
        self.path = Path(path)

    def work(self) -> DisplayImage:
        self.report(0.0, "Loading image")
        image = _load(self.path)
        self.checkpoint()
        return DisplayImage.prepare(image, self.request_id)


class PredictWorker(Worker):
    """Probability plus Grad-CAM for the image on screen, the heatmap colourised here, off the GUI thread."""

    def __init__(self, session: ModelSession, image: Any, request_id: int) -> None:
        super().__init__(request_id)
        self._session = session
        self.image = image

    def work(self) -> PredictionResult:
        predictor = self._session.get()
        self.checkpoint()
        self.report(0.1, "Analysing")
        prediction = predictor.predict(self.image, heatmap=True)
        audited = _audit(self.image.file_sha256, prediction)
        self.checkpoint()
        heat = prediction.heatmap(self.image.shape)
        rgba = heatmap_rgba(heat) if heat is not None else None
        return PredictionResult(prediction, rgba, audited, self.request_id)


class BatchSignals(WorkerSignals):
    item = Signal(object)  # BatchItemResult, one per file as soon as it is scored


class BatchChunkWorker(Worker):
    """A few files of a batch, scored exactly as the CLI scores them (core.batch_scoring: draft-size decode,
    one forward pass per chunk, audit line per prediction). A bad file is a result, not a failure: its row
    shows why and the batch goes on. Chunks keep the model thread free often enough for the image on
    screen to jump the queue, and bound how long a cancel takes."""

    def __init__(self, session: ModelSession, files: list[tuple[int, Path]], batch_id: int,
                 batch_cancel: threading.Event) -> None:
        super().__init__(batch_id)
        self.signals: BatchSignals = BatchSignals()
        self._session = session
        self.files = [(index, Path(path)) for index, path in files]
        self._batch_cancel = batch_cancel

    def should_stop(self) -> bool:
        return super().should_stop() or self._batch_cancel.is_set()

    def checkpoint(self) -> None:
        if self._batch_cancel.is_set():
            self.cancel()
        super().checkpoint()

    def work(self) -> int:
        from pneumo_desktop.core.batch_scoring import iter_scored
        from pneumo_desktop.core.records import record_from

        paths = [path for _, path in self.files]
        try:
            predictor = self._session.get()
        except PneumoError as exc:
            # No model: still list every file, with the reason, so the batch finishes visibly.
            for index, path in self.files:
                self.checkpoint()
                record = record_from(str(path), None, error=str(exc))
                self.signals.item.emit(BatchItemResult(index, self.request_id, path, record, error=str(exc)))
            return len(self.files)
        scored_iter = iter_scored(predictor, paths, batch_size=len(paths), audit_source=AUDIT_SOURCE,
                                  should_stop=self.should_stop)
        for (index, path), scored in zip(self.files, scored_iter, strict=False):
            self.checkpoint()
            record = record_from(str(path), scored.prediction, scored.image, scored.error,
                                 file_sha256=scored.file_sha256)
            result = BatchItemResult(index, self.request_id, path, record, scored.prediction, error=scored.error)
            if scored.image is not None:
                result.thumbnail = thumbnail(scored.image.pixels)
                result.metadata = dict(scored.image.metadata)
            self.signals.item.emit(result)
        return len(self.files)


class CollectWorker(Worker):
    """Walks dropped/opened folders off the GUI thread: a network share can take seconds to list."""

    def __init__(self, paths: list[Path], request_id: int) -> None:
        super().__init__(request_id)
        self.paths = [Path(p) for p in paths]

    def work(self) -> Any:
        from pneumo_desktop.core.collect import collect_inputs

        return collect_inputs(self.paths, should_stop=self.should_stop)
