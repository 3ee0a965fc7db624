"""Scoring files: the one path the window, ``predict`` and ``report`` all take.

It owns the two decisions every caller used to make on its own: which decode of a file the model reads
(``read_for_model``; the file-changed check lives here and only here), and what scoring a file entails
(batching by bytes, the one-at-a-time retry after a failed batch, hashing files that failed, one audit line
per scored file and the thumbnail). The Predictor turns pixels into a Prediction and reads no file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pneumo_desktop.core import read_ahead
from pneumo_desktop.core.audit import AuditTrail
from pneumo_desktop.core.errors import FILE_CHANGED, ImageLoadError
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.loader import load_image, may_decode_smaller
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.core.read_ahead import DEFAULT_DECODE_THREADS, Scored, loaded_batches
from pneumo_desktop.core.thumbnail import thumbnail_of

if TYPE_CHECKING:
    from pneumo_desktop.core.predictor import Predictor

__all__ = [
    "AuditTrail", "Scored", "ShownScore", "full_decode_of", "iter_scored", "iter_unscored", "model_input_for",
    "read_for_model", "reads_in_full", "score_shown",
]
log = logging.getLogger(__name__)
DEFAULT_BATCH_SIZE = 16


# ----- reading a file for the model ------------------------------------------------------------------------
def read_for_model(path: str | Path, input_size: int) -> LoadedImage:
    """THE decode whose pixels the model scores: the window, batch lists, CLI, reports and the test metrics
    all read files through here, so one file gets one probability everywhere.

    JPEGs are DCT-scaled while decoding to a short side of at least twice the input size (several times
    faster for a 2k film; the input is a few hundred pixels, so nothing the model could use is lost);
    every other format decodes in full. The viewer decodes the same file again at full resolution.
    """
    return load_image(path, draft_size=input_size)


def reads_in_full(path: str | Path) -> bool:
    """True when ``read_for_model(path)`` is exactly ``load_image(path)``, so a full-resolution decode made
    for display can be scored as it is (every format but JPEG)."""
    return not may_decode_smaller(path)


def _check_same_file(scored: LoadedImage, shown: LoadedImage) -> None:
    if scored.file_sha256 != shown.file_sha256:
        raise ImageLoadError(FILE_CHANGED, shown.path.name)


def model_input_for(shown: LoadedImage, input_size: int) -> LoadedImage:
    """The model's reading of the file ``shown`` was decoded from in full (for a page or a screen): that
    very decode when ``read_for_model`` would give the same pixels, else a second read. Raises
    ImageLoadError when the file changed between the two reads."""
    if reads_in_full(shown.path):
        return shown.sharing_pixels()
    scored = read_for_model(shown.path, input_size)
    _check_same_file(scored, shown)
    return scored


def full_decode_of(scored: LoadedImage) -> LoadedImage:
    """The full-resolution pixels of the file the model read (a heatmap goes on the original, not on a
    DCT-scaled JPEG). Raises ImageLoadError when the file changed in between."""
    if "decoded_size" not in scored.metadata:
        return scored
    full = load_image(scored.path)
    _check_same_file(scored, full)
    return full


def _trail(audit_to: AuditTrail | str | None) -> AuditTrail:
    return audit_to if isinstance(audit_to, AuditTrail) else AuditTrail(audit_to)


# ----- the one file on screen or on a page ----------------------------------------------------------------
@dataclass
class ShownScore:
    prediction: Prediction
    image: LoadedImage  # the decode the model scored: its hash, and the warnings scoring added
    audited: bool  # False when the audit line could not be written


def score_shown(predictor: Predictor, path: Path, shown: Callable[[], LoadedImage],
                audit_to: AuditTrail | str | None, displayed: int | None = None) -> ShownScore:
    """Score the file whose full-resolution decode ``shown()`` returns (it may block until that decode is
    made, elsewhere), with Grad-CAM. Anything but a JPEG is scored from that decode; a JPEG is read again the
    model's way, at once, and its hash compared with the shown decode's before the audit line is written:
    a result that will never be shown (the file changed between the reads) leaves no line. ``displayed``: score
    the film as the reader turned it in the viewer (Predictor.predict)."""
    image = shown().sharing_pixels() if reads_in_full(path) else read_for_model(path, predictor.size)
    prediction = predictor.predict(image, heatmap=True, displayed=displayed)
    _check_same_file(image, shown())
    return ShownScore(prediction, image, _trail(audit_to).record(image, prediction))


# ----- many files -------------------------------------------------------------------------------------------
def iter_scored(
    predictor: Predictor,
    files: Sequence[Path],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    heatmap: bool = False,
    audit_to: AuditTrail | str | None = "cli",
    should_stop: Callable[[], bool] = lambda: False,
    decode_threads: int = DEFAULT_DECODE_THREADS,
    max_held_bytes: int | None = None,
    thumbnails: bool = False,
) -> Iterator[Scored]:
    """Results in input order. Files are read the model's way (``read_for_model``); without ``heatmap`` they
    are scored up to ``batch_size`` at a time, with it one by one (Grad-CAM needs a backward pass per image).
    The heatmap is registered to the decoded image, whatever its size. ``decode_threads`` > 0 decodes ahead
    while the current batch is scored; 0 decodes in the caller's thread. Decoded pixels held (batch plus
    read-ahead) stay near ``max_held_bytes`` (default read_ahead.MAX_HELD_BYTES; see read_ahead._Budget). ``audit_to``: a trail, a source name for a
    new one, or None for no audit lines."""
    trail = _trail(audit_to)
    held = read_ahead.MAX_HELD_BYTES if max_held_bytes is None else max_held_bytes
    step = 1 if heatmap else max(1, int(batch_size))

    def read(path: Path) -> LoadedImage:
        return read_for_model(path, predictor.size)

    for chunk, loaded in loaded_batches(files, step, read, decode_threads, should_stop, held):
        scored = _score_one(predictor, chunk[0], loaded[0], trail) if heatmap else _score_chunk(predictor, chunk, loaded, trail)
        for item in scored:
            if thumbnails and item.image is not None:
                item.thumbnail = thumbnail_of(item.image.pixels)
            yield item
        # Dropped before the next batch is decoded, or a 400-MB image would outlive its turn.
        del loaded, scored


def iter_unscored(files: Sequence[Path], reason: str, *, should_stop: Callable[[], bool] = lambda: False,
                  max_held_bytes: int | None = None) -> Iterator[Scored]:
    """Without a model: each file decoded in full for its thumbnail and tags, ``reason`` as its error."""
    held = read_ahead.MAX_HELD_BYTES if max_held_bytes is None else max_held_bytes
    for _chunk, loaded in loaded_batches(files, DEFAULT_BATCH_SIZE, load_image, 0, should_stop, held):
        for item in loaded:
            if isinstance(item, Scored):
                yield item
            else:
                yield Scored(item.path, item, None, reason, item.file_sha256, thumbnail_of(item.pixels))
        del loaded


def _score_one(predictor: Predictor, path: Path, loaded: LoadedImage | Scored, trail: AuditTrail) -> list[Scored]:
    if isinstance(loaded, Scored):
        return [loaded]
    try:
        prediction = predictor.predict(loaded, heatmap=True)
    except Exception as exc:  # one odd file must not end a batch of thousands
        return [_model_failure(path, loaded, exc)]
    trail.record(loaded, prediction)
    return [Scored(path, loaded, prediction, None, loaded.file_sha256)]


def _score_chunk(predictor: Predictor, chunk: Sequence[Path], loaded: list[LoadedImage | Scored],
                 trail: AuditTrail) -> list[Scored]:
    images = [item for item in loaded if isinstance(item, LoadedImage)]
    predictions: Iterator[Prediction | Exception]
    try:
        predictions = iter(predictor.predict_batch(images)) if images else iter(())
    except Exception:  # retry one by one so only the offending file fails
        log.debug("batch forward pass failed; scoring one by one", exc_info=True)
        predictions = iter([_predict_alone(predictor, image) for image in images])
    out = []
    for path, item in zip(chunk, loaded, strict=True):
        if isinstance(item, Scored):
            out.append(item)
            continue
        result = next(predictions)
        if isinstance(result, Exception):
            out.append(_model_failure(path, item, result))
        else:
            trail.record(item, result)
            out.append(Scored(path, item, result, None, item.file_sha256))
    return out


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
