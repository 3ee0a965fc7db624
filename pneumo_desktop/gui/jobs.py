"""The concrete background jobs: thin adapters that call the Qt-free core and emit typed results.

Image-pool jobs: ImageLoadWorker, CollectWorker. Model-pool jobs (one thread, so the Predictor and an
AuditTrail are used serially): ModelLoadWorker, PredictWorker, BatchChunkWorker. What scoring a file means
(which decode the model reads, the file-changed check, retries, hashing, audit, thumbnails) is
``core.scoring``'s; the core modules are imported inside ``work()`` so importing this one never pulls in torch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Signal

from pneumo_desktop.core.errors import PneumoError
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.gui.allocator import release_free_memory
from pneumo_desktop.gui.display_image import DisplayImage
from pneumo_desktop.gui.heatmap_overlay import overlay_for
from pneumo_desktop.gui.model_session import ModelSession
from pneumo_desktop.gui.workers import Cancelled, Worker, WorkerSignals

if TYPE_CHECKING:
    from pneumo_desktop.core.collect import Collected
    from pneumo_desktop.core.model_card import ModelCard
    from pneumo_desktop.core.read_ahead import Scored
    from pneumo_desktop.core.scoring import AuditTrail

log = logging.getLogger(__name__)

TRIM_EVERY = 100  # files between returns of freed heap to the OS during a batch


@dataclass
class PredictionResult:
    prediction: Prediction
    heatmap: np.ndarray | None  # RGBA overlay, at most OVERLAY_MAX_SIDE; the view scales it onto the image
    audited: bool
    request_id: int
    image: LoadedImage  # the decode the model scored: its warnings


@dataclass
class BatchItemResult:
    index: int
    batch_id: int
    path: Path
    record: dict[str, Any]  # core.records.record_from(...)
    prediction: Prediction | None = None
    thumbnail: np.ndarray | None = None
    error: str | None = None
    # The header fields a row names the film by (modality, study date, patient …; gui/phi.row_label).
    metadata: dict[str, Any] | None = None


class ModelLoadWorker(Worker):
    def __init__(self, session: ModelSession) -> None:
        super().__init__()
        self._session = session

    def work(self) -> ModelCard:
        return self._session.get().card


class DecodeHandoff:
    """The image thread's full-resolution decode, passed to the model thread: scored as it is for files the
    model reads in full anyway (every format but JPEG), so a DICOM is decoded once, not twice; for a JPEG,
    what the model's own read is checked against before its result counts (core.scoring.score_shown)."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._image: LoadedImage | None = None

    def put(self, image: LoadedImage | None) -> None:
        if not self._ready.is_set():
            self._image = image
            self._ready.set()

    def withdraw(self) -> None:
        """No decode is coming (it failed or was cancelled): the image thread reports why, if anyone asks."""
        self.put(None)

    def take(self, should_stop: Callable[[], bool]) -> LoadedImage:
        while not self._ready.wait(0.05):
            if should_stop():
                raise Cancelled
        if self._image is None:
            raise Cancelled
        return self._image


class ImageLoadWorker(Worker):
    """The full-resolution decode for the viewer. With ``preview``, a JPEG 2000 film first sends a half-resolution
    look as ``signals.item`` (a QImage already scaled to the film's size), painted while the full decode runs."""

    def __init__(self, path: Path, request_id: int, handoff: DecodeHandoff | None = None, *,
                 preview: bool = False) -> None:
        super().__init__(request_id)
        self.signals: BatchSignals = BatchSignals()
        self.path = Path(path)
        self.handoff = handoff or DecodeHandoff()
        self._preview = preview

    def cancel(self) -> None:
        super().cancel()
        self.handoff.withdraw()

    def work(self) -> DisplayImage:
        from pneumo_desktop.core.loader import load_image

        if self._preview:
            # Before the full decode, not beside it: on two cores both decodes (and the GIL) then share the CPU
            # and the preview came at 130 ms instead of 45 ms. It delays the full image by its own ~40 ms.
            self._send_preview()
        try:
            image = load_image(self.path)
        except BaseException:
            self.handoff.withdraw()
            raise
        self.handoff.put(image)
        self.checkpoint()
        return DisplayImage.prepare(image, self.request_id)

    def _send_preview(self) -> None:
        from pneumo_desktop.core.dicom_preview import j2k_preview

        preview = j2k_preview(self.path)
        if preview is None:
            return
        self.checkpoint()
        try:
            frame = DisplayImage.prepare(preview, self.request_id).first_frame
        except Exception as exc:  # noqa: BLE001 - a failed preview must never cost the image itself
            log.info("preview not shown: %s", type(exc).__name__)
            return
        rows, columns = preview.metadata["rows"], preview.metadata["columns"]
        if frame is not None:
            # Scaled here, off the GUI thread, so the view lays it out exactly as the full image will be.
            self._say(self.signals.item, frame.scaled(columns, rows))


class PredictWorker(Worker):
    """Probability plus Grad-CAM for the file on screen (core.scoring.score_shown, beside the image thread's
    decode), the heatmap coloured here, off the GUI thread."""

    def __init__(self, session: ModelSession, path: Path, request_id: int, handoff: DecodeHandoff,
                 trail: AuditTrail | str | None = "gui", displayed: int | None = None) -> None:
        super().__init__(request_id)
        self._session = session
        self.path = Path(path)
        self._handoff = handoff
        self._trail = trail
        self._displayed = displayed

    def work(self) -> PredictionResult:
        from pneumo_desktop.core.scoring import score_shown

        predictor = self._session.get()
        self.checkpoint()
        scored = score_shown(predictor, self.path, lambda: self._handoff.take(self.should_stop), self._trail,
                             self._displayed)
        self.checkpoint()
        return PredictionResult(scored.prediction, overlay_for(scored.prediction, scored.image.shape),
                                scored.audited, self.request_id, scored.image)


class BatchSignals(WorkerSignals):
    # A partial result: a batch's BatchItemResult, one per file as soon as it is scored; the viewer's preview.
    item = Signal(object)


class BatchChunkWorker(Worker):
    """A few files of a batch, scored by core.scoring.iter_scored as the CLI scores them (so a row shows the
    number the panel shows when it is opened, and decoded pixels are bounded by bytes). A bad file is a result,
    not a failure. Chunks keep the model thread free often enough for the image on screen to jump the queue,
    and bound how long a cancel takes."""

    def __init__(self, session: ModelSession, files: list[tuple[int, Path]], batch_id: int,
                 batch_cancel: threading.Event, trail: AuditTrail | str | None = "gui") -> None:
        super().__init__(batch_id)
        self.signals: BatchSignals = BatchSignals()
        self._session = session
        self.files = [(index, Path(path)) for index, path in files]
        self._batch_cancel = batch_cancel
        self._trail = trail

    def should_stop(self) -> bool:
        return super().should_stop() or self._batch_cancel.is_set()

    def checkpoint(self) -> None:
        if self._batch_cancel.is_set():
            self.cancel()
        super().checkpoint()

    def work(self) -> int:
        from pneumo_desktop.core.records import record_from
        from pneumo_desktop.core.scoring import iter_scored, iter_unscored

        paths = [path for _, path in self.files]
        self.checkpoint()
        items: Iterator[Scored]
        try:
            predictor = self._session.get()
        except PneumoError as exc:  # the list still shows each file's thumbnail and why it has no score
            items = iter_unscored(paths, str(exc), should_stop=self.should_stop)
        else:
            items = iter_scored(predictor, paths, batch_size=len(paths), audit_to=self._trail, decode_threads=0,
                                should_stop=self.should_stop, thumbnails=True)
        card = self._session.card
        population = card.intended_population if card is not None else None
        for (index, _), item in zip(self.files, items, strict=False):
            self.checkpoint()
            record = record_from(str(item.path), item.prediction, item.image, item.error,
                                 file_sha256=item.file_sha256, population=population)
            self.signals.item.emit(self._result(index, item, record))
        if any(index % TRIM_EVERY < len(self.files) for index, _ in self.files):
            release_free_memory()
        return len(self.files)

    def _result(self, index: int, item: Scored, record: dict[str, Any]) -> BatchItemResult:
        metadata = dict(item.image.metadata) if item.image is not None else None
        return BatchItemResult(index, self.request_id, item.path, record, item.prediction, item.thumbnail, item.error,
                               metadata)


class CollectWorker(Worker):
    """Walks dropped/opened folders off the GUI thread: a network share can take seconds to list."""

    def __init__(self, paths: list[Path], request_id: int) -> None:
        super().__init__(request_id)
        self.paths = [Path(p) for p in paths]

    def work(self) -> Collected:
        from pneumo_desktop.core.collect import collect_inputs

        return collect_inputs(self.paths, should_stop=self.should_stop)
