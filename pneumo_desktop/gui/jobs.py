"""The concrete background jobs. Each is a Worker; none touches a widget.

Image-pool jobs: ImageLoadWorker, CollectWorker. Model-pool jobs (one thread, so the Predictor is used
serially): ModelLoadWorker, PredictWorker, BatchChunkWorker. The loader, predictor, audit log and records
are imported inside ``work()`` so that importing this module never pulls in torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import Signal

from pneumo_desktop.core.errors import PneumoError
from pneumo_desktop.core.heatmap_render import score_strength
from pneumo_desktop.gui.allocator import release_free_memory
from pneumo_desktop.gui.display_image import DisplayImage
from pneumo_desktop.gui.exception_hook import log_exception
from pneumo_desktop.gui.heatmap_overlay import heatmap_rgba
from pneumo_desktop.gui.model_session import ModelSession
from pneumo_desktop.gui.workers import Cancelled, Worker, WorkerSignals

TRIM_EVERY = 100  # files between returns of freed heap to the OS during a batch
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
    heatmap: np.ndarray | None  # RGBA overlay, at most OVERLAY_MAX_SIDE; the view scales it onto the image
    audited: bool
    request_id: int
    image: Any = None  # the LoadedImage the model scored (Predictor.read_input), for its hash and warnings


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


class DecodeHandoff:
    """The image thread's full-resolution decode, passed to the model thread for files the model reads in
    full anyway (``Predictor.reads_in_full``: every format but JPEG), so a DICOM is decoded once, not twice.
    The model thread gets it as soon as it is decoded, while the display is still being prepared."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._image: Any = None

    def put(self, image: Any) -> None:
        if not self._ready.is_set():
            self._image = image
            self._ready.set()

    def withdraw(self) -> None:
        """No decode is coming (it failed or was cancelled): the image thread reports why, if anyone asks."""
        self.put(None)

    def take(self, should_stop: Callable[[], bool]) -> Any:
        """A copy of the LoadedImage that shares its pixels (scoring may add warnings, never change pixels)."""
        while not self._ready.wait(0.05):
            if should_stop():
                raise Cancelled
        if self._image is None:
            raise Cancelled
        return self._image.sharing_pixels()


class ImageLoadWorker(Worker):
    def __init__(self, path: Path, request_id: int, handoff: DecodeHandoff | None = None) -> None:
        super().__init__(request_id)
        self.path = Path(path)
        self.handoff = handoff or DecodeHandoff()

    def cancel(self) -> None:
        super().cancel()
        self.handoff.withdraw()

    def work(self) -> DisplayImage:
        self.report(0.0, "Loading image")
        try:
            image = _load(self.path)
        except BaseException:
            self.handoff.withdraw()
            raise
        self.handoff.put(image)
        self.checkpoint()
        return DisplayImage.prepare(image, self.request_id)


OVERLAY_MAX_SIDE = 512


def overlay_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """The overlay's own resolution: the CAM is 7x7, so colouring 4 M pixels of a 2k film bought nothing but
    ~180 ms; the view scales this pixmap onto the image's exact pixel grid (ImageView.set_heatmap)."""
    rows, cols = shape
    scale = min(1.0, OVERLAY_MAX_SIDE / max(rows, cols))
    return max(1, round(rows * scale)), max(1, round(cols * scale))


class PredictWorker(Worker):
    """Probability plus Grad-CAM for the file on screen, the heatmap colourised here, off the GUI thread.

    A JPEG it reads itself, the model's way (``Predictor.read_input``: DCT-scaled), while the image thread
    decodes it at full resolution for the viewer; any other file it takes from the image thread's decode,
    which is exactly what ``read_input`` would give. Either way the probability is the one the CLI and a
    batch give for the same file."""

    def __init__(self, session: ModelSession, path: Path, request_id: int,
                 handoff: DecodeHandoff | None = None) -> None:
        super().__init__(request_id)
        self._session = session
        self.path = Path(path)
        self._handoff = handoff

    def work(self) -> PredictionResult:
        predictor = self._session.get()
        self.checkpoint()
        self.report(0.1, "Analysing")
        if self._handoff is not None and predictor.reads_in_full(self.path):
            image = self._handoff.take(self.should_stop)
        else:
            image = predictor.read_input(self.path)
        self.checkpoint()
        prediction = predictor.predict(image, heatmap=True)
        audited = _audit(image.file_sha256, prediction)
        self.checkpoint()
        heat = prediction.heatmap(overlay_shape(image.shape))
        rgba = heatmap_rgba(heat * score_strength(prediction.probability, prediction.threshold)) \
            if heat is not None else None
        return PredictionResult(prediction, rgba, audited, self.request_id, image)


class BatchSignals(WorkerSignals):
    item = Signal(object)  # BatchItemResult, one per file as soon as it is scored


class BatchChunkWorker(Worker):
    """A few files of a batch: each read the model's way (so the list shows the very number the panel
    shows when the row is opened), one forward pass for the chunk, one audit line per prediction. A bad file
    is a result, not a failure: its row shows why and the batch goes on. Chunks keep the model thread free
    often enough for the image on screen to jump the queue, and bound how long a cancel takes."""

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
        read = self._reader()
        loaded: list[tuple[int, Path, Any]] = []
        for index, path in self.files:
            self.checkpoint()
            loaded.append((index, path, _load_or_message(read, path)))
        images = [item for _, _, item in loaded if not isinstance(item, str)]
        predictions = self._predict(images)
        self.checkpoint()
        for index, path, item in loaded:
            self.signals.item.emit(self._result(index, path, item, predictions))
        if any(index % TRIM_EVERY < len(self.files) for index, _ in self.files):
            release_free_memory()
        return len(self.files)

    def _reader(self) -> Callable[[Path], Any]:
        """The model's way of reading files, so a row shows the number the panel shows for that file; without
        a model, a full decode, so the list still shows each file's thumbnail and why it has no score."""
        try:
            return self._session.get().read_input  # type: ignore[no-any-return]
        except PneumoError:
            return _load

    def _predict(self, images: list[Any]) -> dict[int, Any]:
        """id(image) -> Prediction, or the message why that image has none."""
        if not images:
            return {}
        try:
            predictor = self._session.get()
        except PneumoError as exc:
            return {id(image): str(exc) for image in images}
        try:
            return {id(im): p for im, p in zip(images, predictor.predict_batch(images), strict=True)}
        except Exception:  # noqa: BLE001 - retry one by one so only the offending image fails
            out: dict[int, Any] = {}
            for image in images:
                try:
                    out[id(image)] = predictor.predict(image, heatmap=False)
                except Exception as exc:  # noqa: BLE001 - reported on that image's row
                    out[id(image)] = f"{image.path.name}: the model could not score this image ({type(exc).__name__})"
            return out

    def _result(self, index: int, path: Path, item: Any, predictions: dict[int, Any]) -> BatchItemResult:
        from pneumo_desktop.core.records import record_from

        if isinstance(item, str):
            record = record_from(str(path), None, error=item, file_sha256=_sha256_or_none(path))
            return BatchItemResult(index, self.request_id, path, record, error=item)
        outcome = predictions[id(item)]
        prediction, error = (None, outcome) if isinstance(outcome, str) else (outcome, None)
        if prediction is not None:
            _audit(item.file_sha256, prediction)
        card = self._session.card
        record = record_from(str(path), prediction, item, error,
                             population=card.intended_population if card is not None else None)
        return BatchItemResult(index, self.request_id, path, record, prediction, thumbnail(item.pixels), error,
                               dict(item.metadata))


def _load_or_message(read: Callable[[Path], Any], path: Path) -> Any:
    """The LoadedImage, or the sentence that explains why the file cannot be read."""
    try:
        return read(path)
    except PneumoError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - one odd file must not end a batch of thousands
        log_exception(type(exc), exc.__traceback__, where="batch load")
        return f"{path.name}: could not be read (unexpected {type(exc).__name__})"


def _sha256_or_none(path: Path) -> str | None:
    from pneumo_desktop.core.hashing import sha256_file

    try:
        return sha256_file(path)
    except OSError:
        return None


class CollectWorker(Worker):
    """Walks dropped/opened folders off the GUI thread: a network share can take seconds to list."""

    def __init__(self, paths: list[Path], request_id: int) -> None:
        super().__init__(request_id)
        self.paths = [Path(p) for p in paths]

    def work(self) -> Any:
        from pneumo_desktop.core.collect import collect_inputs

        return collect_inputs(self.paths, should_stop=self.should_stop)
