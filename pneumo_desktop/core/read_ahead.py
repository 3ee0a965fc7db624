"""Files decoded in batches, bounded by the bytes they hold rather than by their count, optionally a batch
ahead on decode threads while the caller scores the batch before. A file that cannot be read becomes its
``Scored`` failure here, so one bad file never ends a batch of thousands."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pneumo_desktop.core.errors import PneumoError
from pneumo_desktop.core.hashing import sha256_file
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.prediction import Prediction

log = logging.getLogger(__name__)
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
    thumbnail: np.ndarray | None = None  # core.thumbnail, when asked for: kept where the image is not


def failure(path: Path, message: str) -> Scored:
    try:
        digest: str | None = sha256_file(path)
    except OSError:
        digest = None
    return Scored(path, None, None, message, digest)


def load_or_failure(read: Callable[[Path], LoadedImage], path: Path) -> LoadedImage | Scored:
    try:
        return read(path)
    except PneumoError as exc:
        log.warning("%s", exc)
        return failure(path, str(exc))
    except Exception as exc:  # one odd file must not end a batch of thousands
        log.error("%s: could not be read (unexpected %s)", path.name, type(exc).__name__)
        log.debug("unexpected loader failure", exc_info=True)
        return failure(path, f"{path.name}: could not be read (unexpected {type(exc).__name__})")


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


def loaded_batches(
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
            batch.append(load_or_failure(read, path))
            held += _nbytes(batch[-1])
            if len(batch) == step or held >= max_bytes // 2 or index == len(files) - 1:
                yield files[index + 1 - len(batch):index + 1], batch
                batch, held = [], 0
        return
    budget = _Budget(max_bytes, 2 * step)

    def task(index: int, path: Path) -> LoadedImage | Scored | None:
        if not budget.wait_turn(index):
            return None
        item = load_or_failure(read, path)
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
