"""Load and score many files with one model: batched forward passes, one failure never stops the rest,
and every prediction goes to the audit log. Used by the CLI's ``predict`` and ``report`` commands."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pneumo_desktop.core import audit
from pneumo_desktop.core.errors import PneumoError
from pneumo_desktop.core.hashing import sha256_file
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.prediction import Prediction

if TYPE_CHECKING:
    from pneumo_desktop.core.predictor import Predictor

log = logging.getLogger(__name__)
DEFAULT_BATCH_SIZE = 16
# Decoding runs on this many threads, one batch ahead of the forward pass: Pillow, numpy and torch release
# the GIL, so reading batch k+1 overlaps scoring batch k (benchmarks/batch_throughput.py measures the gain).
# Threads only, never processes: a fork would copy the loaded model and break frozen (PyInstaller) builds.
DEFAULT_DECODE_THREADS = 1
# Decoded pixels held at once by a batch and its read-ahead (see _Budget).
MAX_HELD_BYTES = 512 << 20


@dataclass
class Scored:
    path: Path
    image: LoadedImage | None
    prediction: Prediction | None
    error: str | None = None
    file_sha256: str | None = None  # also set when the file failed to load but could be read


def _failure(path: Path, message: str) -> Scored:
    try:
        digest: str | None = sha256_file(path)
    except OSError:
        digest = None
    return Scored(path, None, None, message, digest)


def _load(read: Callable[[Path], LoadedImage], path: Path) -> LoadedImage | Scored:
    try:
        return read(path)
    except PneumoError as exc:
        log.warning("%s", exc)
        return _failure(path, str(exc))
    except Exception as exc:  # one odd file must not end a batch of thousands
        log.error("%s: could not be read (unexpected %s)", path.name, type(exc).__name__)
        log.debug("unexpected loader failure", exc_info=True)
        return _failure(path, f"{path.name}: could not be read (unexpected {type(exc).__name__})")


def _audited(image: LoadedImage, prediction: Prediction, audit_source: str | None) -> Prediction:
    if audit_source is not None:
        audit.record_prediction(image.file_sha256, prediction, source=audit_source)
    return prediction


def iter_scored(
    predictor: Predictor,
    files: Sequence[Path],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    heatmap: bool = False,
    audit_source: str | None = "cli",
    should_stop: Callable[[], bool] = lambda: False,
    decode_threads: int = DEFAULT_DECODE_THREADS,
    max_held_bytes: int = MAX_HELD_BYTES,
) -> Iterator[Scored]:
    """Results in input order. Files are read the model's way (``Predictor.read_input``); without
    ``heatmap`` they are scored up to ``batch_size`` at a time, with it one by one (Grad-CAM needs a
    backward pass per image). The heatmap is registered to the decoded image, whatever its size.
    ``decode_threads`` > 0 decodes ahead while the current batch is scored; 0 decodes in the caller's
    thread. Decoded pixels held (batch plus read-ahead) stay near ``max_held_bytes``: see _Budget."""
    step = 1 if heatmap else max(1, int(batch_size))
    for chunk, loaded in _loaded_batches(files, step, predictor.read_input, decode_threads, should_stop,
                                         max_held_bytes):
        if heatmap:
            yield _score_one(predictor, chunk[0], loaded[0], audit_source)
        else:
            yield from _score_chunk(predictor, chunk, loaded, audit_source)
        # Dropped before the next batch is decoded, or a 400-MB image would outlive its turn.
        del loaded


def _nbytes(item: LoadedImage | Scored) -> int:
    return int(item.pixels.nbytes) if isinstance(item, LoadedImage) else 0


class _Budget:
    """Bounds decoded pixels by bytes, not by count: sixteen 2k films are 270 MB, sixteen 100-MP PNGs
    (200 KB each on disk) 6.4 GB. A read-ahead decode waits until what is held plus twice the largest
    image seen so far (its likely size, and the decoder's working copy) fits the limit; the decode the
    consumer is waiting for always proceeds, so a batch can always be finished and released. Huge images
    are thus decoded one at a time, never beside the scoring of another."""

    def __init__(self, max_bytes: int, ahead: int) -> None:
        self.max_bytes, self.ahead = max_bytes, ahead
        self.held = 0
        self.largest = 0
        self.wanted = 0
        self.closed = False
        self._cond = threading.Condition()

    def wait_turn(self, index: int) -> bool:
        """In a decode thread, before decoding input ``index``; False when the consumer has gone."""
        with self._cond:
            self._cond.wait_for(lambda: self.closed or index <= self.wanted
                                or (self.held + 2 * self.largest <= self.max_bytes
                                    and index < self.wanted + self.ahead))
            return not self.closed

    def add(self, count: int) -> None:
        with self._cond:
            self.held += count
            self.largest = max(self.largest, count)

    def release(self, count: int) -> None:
        with self._cond:
            self.held -= count
            self._cond.notify_all()

    def want(self, index: int) -> None:
        with self._cond:
            self.wanted = index
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def _loaded_batches(
    files: Sequence[Path], step: int, read: Callable[[Path], LoadedImage], threads: int,
    should_stop: Callable[[], bool], max_bytes: int,
) -> Iterator[tuple[Sequence[Path], list[LoadedImage | Scored]]]:
    """Batches of up to ``step`` files with their loaded images, in order. A batch also closes once it
    holds half of ``max_bytes``, so one huge image is scored (and released) alone."""
    if threads <= 0:
        batch: list[LoadedImage | Scored] = []
        held = 0
        for index, path in enumerate(files):
            if should_stop():
                return
            batch.append(_load(read, path))
            held += _nbytes(batch[-1])
            if len(batch) == step or held >= max_bytes // 2 or index == len(files) - 1:
                yield files[index + 1 - len(batch):index + 1], batch
                batch, held = [], 0
        return
    budget = _Budget(max_bytes, 2 * step)

    def task(index: int, path: Path) -> LoadedImage | Scored | None:
        if not budget.wait_turn(index):
            return None
        item = _load(read, path)
        budget.add(_nbytes(item))
        return item

    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pneumo-decode")
    # Taken from the left as consumed: a finished future holds its image until dropped.
    futures = deque(pool.submit(task, index, path) for index, path in enumerate(files))
    try:
        start, loaded, held = 0, [], 0
        for index in range(len(files)):
            if should_stop():
                return
            budget.want(index)
            item = futures.popleft().result()
            if item is None:
                return
            loaded.append(item)
            held += _nbytes(item)
            del item  # the batch list is the only owner, so releasing the batch frees it
            if len(loaded) == step or held >= max_bytes // 2 or index == len(files) - 1:
                yield files[start:index + 1], loaded
                loaded = []
                budget.release(held)
                start, held = index + 1, 0
    finally:
        # A consumer that stops early (cancel, closed pipe) waits at most for the decodes already running.
        budget.close()
        pool.shutdown(wait=True, cancel_futures=True)


def _score_one(predictor: Predictor, path: Path, loaded: LoadedImage | Scored,
               audit_source: str | None) -> Scored:
    if isinstance(loaded, Scored):
        return loaded
    try:
        prediction = predictor.predict(loaded, heatmap=True)
    except Exception as exc:  # see _load
        return _model_failure(path, loaded, exc)
    return Scored(path, loaded, _audited(loaded, prediction, audit_source), None, loaded.file_sha256)


def _score_chunk(predictor: Predictor, chunk: Sequence[Path], loaded: list[LoadedImage | Scored],
                 audit_source: str | None) -> Iterator[Scored]:
    images = [item for item in loaded if isinstance(item, LoadedImage)]
    predictions: Iterator[Prediction | Exception]
    try:
        predictions = iter(predictor.predict_batch(images)) if images else iter(())
    except Exception:  # retry one by one so only the offending file fails
        log.debug("batch forward pass failed; scoring one by one", exc_info=True)
        predictions = iter([_predict_alone(predictor, image) for image in images])
    for path, item in zip(chunk, loaded, strict=True):
        if isinstance(item, Scored):
            yield item
            continue
        result = next(predictions)
        if isinstance(result, Exception):
            yield _model_failure(path, item, result)
        else:
            yield Scored(path, item, _audited(item, result, audit_source), None, item.file_sha256)


def _predict_alone(predictor: Predictor, image: LoadedImage) -> Prediction | Exception:
    try:
        return predictor.predict(image, heatmap=False)
    except Exception as exc:  # reported per file by the caller
        return exc


def _model_failure(path: Path, image: LoadedImage, exc: Exception) -> Scored:
    log.error("%s: the model could not score this image (%s)", path.name, type(exc).__name__)
    log.debug("model failure", exc_info=True)
    message = f"{path.name}: the model could not score this image ({type(exc).__name__})"
    return Scored(path, image, None, message, image.file_sha256)
