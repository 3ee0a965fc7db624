"""``pneumo-desktop predict``: score files and folders headlessly, one record per input on stdout (exit
codes in cli/__init__.py)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from pneumo_desktop.cli import EXIT_AUDIT, EXIT_MODEL, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from pneumo_desktop.core import records
from pneumo_desktop.core.atomic import atomic_write_bytes
from pneumo_desktop.core.audit import AuditTrail
from pneumo_desktop.core.collect import Collected, collect_inputs, input_folders, is_inside
from pneumo_desktop.core.errors import PneumoError
from pneumo_desktop.core.heatmap_render import blend_image, png_bytes, score_strength
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.prediction import Prediction

log = logging.getLogger(__name__)

FORMATS = ("table", "jsonl", "csv")
_UNSAFE = re.compile(r"[^\w.-]+")


def heatmap_name(path: Path) -> str:
    """Stem plus a hash of the absolute path: two inputs called IM-0001.dcm in different folders get
    different heatmaps, and the same input gets the same name on every run (so --force means something)."""
    stem = _UNSAFE.sub("_", records.display_text(path.stem)).strip("._")[:60] or "image"
    digest = hashlib.sha256(str(path.absolute()).encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return f"{stem}-{digest}.heatmap.png"


def report_inputs(collected: Collected) -> None:
    for path in collected.missing:
        log.error("%s: no such file or folder", path.name or str(path))
    for path in collected.dicomdirs:
        log.info("%s: a DICOMDIR is an index, not an image: the films in its folder are read instead", path.name)
    for path, kind in collected.special:
        log.warning("%s: skipped: this is %s, not a regular file", path.name, kind)
    for path, why in collected.not_followed:
        log.warning("%s: not followed: %s", path.name, why)
    for path, why in collected.unreadable:
        log.error("%s: could not be read (%s): films in it, if any, were not reached", path.name, why)
    if collected.skipped:
        log.info("skipped %d file%s that are not images (hidden files, DICOMDIR, other types)",
                 collected.skipped, "" if collected.skipped == 1 else "s")


class _Sink:
    """Streams jsonl/csv as results arrive; a table needs all rows for its column widths."""

    def __init__(self, fmt: str, out: IO[str]) -> None:
        self.fmt = fmt
        self.out = out
        self.rows: list[records.Record] = []
        self._header = True
        isatty = getattr(out, "isatty", None)
        # A table is for a terminal, so its text is always escaped; CSV only when it goes to one (into a
        # file or a pipe it stays exact). JSON escapes control characters itself.
        self._escape = fmt == "table" or (fmt == "csv" and callable(isatty) and bool(isatty()))

    def add(self, record: records.Record) -> None:
        if self._escape:
            record = records.terminal_record(record)
        if self.fmt == "jsonl":
            records.write_jsonl([record], self.out)
        elif self.fmt == "csv":
            records.write_csv([record], self.out, header=self._header)
            self._header = False
        else:
            self.rows.append(record)
        self.out.flush()

    def close(self) -> None:
        if self.fmt == "table":
            self.out.write(records.format_table(self.rows))
        elif self.fmt == "csv" and self._header:
            records.write_csv([], self.out)
        self.out.flush()


def _prepare_heatmap_dir(heatmap_dir: Path, collected: Collected, force: bool) -> dict[Path, Path] | None:
    if is_inside(heatmap_dir, input_folders(collected)):
        log.error("the heatmap folder must not be an input folder or inside one (inputs are never written to)")
        return None
    # os.path, not Path: Path.exists() raises on a name too long instead of answering.
    if os.path.exists(heatmap_dir) and not os.path.isdir(heatmap_dir):
        log.error("%s exists and is not a folder", heatmap_dir.name)
        return None
    targets = {path: heatmap_dir / heatmap_name(path) for path in collected.files}
    existing = [t for t in targets.values() if os.path.lexists(t)]
    if existing and not force:
        log.error("%d heatmap file%s already exist in the heatmap folder (e.g. %s); use --force to overwrite",
                  len(existing), "" if len(existing) == 1 else "s", existing[0].name)
        return None
    try:
        heatmap_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.error("the heatmap folder cannot be created: %s", exc.strerror or exc)
        return None
    return targets


def run_predict(
    inputs: Sequence[str],
    *,
    out: IO[str],
    fmt: str = "table",
    heatmap_dir: Path | None = None,
    force: bool = False,
    batch_size: int = 16,
) -> int:
    collected = collect_inputs(inputs)
    report_inputs(collected)
    if not collected.files:
        log.error("no image files found")
        return EXIT_SOME_FAILED if collected.unreadable else EXIT_USAGE
    targets = None
    if heatmap_dir is not None:
        targets = _prepare_heatmap_dir(Path(heatmap_dir), collected, force)
        if targets is None:
            return EXIT_USAGE

    from pneumo_desktop.cli import load_predictor
    from pneumo_desktop.core.scoring import iter_scored

    predictor = load_predictor()
    if predictor is None:
        return EXIT_MODEL
    log.info("model %s; %d input file%s", predictor.card.display_name, len(collected.files),
             "" if len(collected.files) == 1 else "s")

    sink = _Sink(fmt, out)
    trail = AuditTrail("cli")
    failed = rejected = 0
    for path in collected.missing:
        sink.add(records.record_from(str(path), None, None, f"{path.name}: no such file or folder"))
        failed += 1
    for item in iter_scored(predictor, collected.files, batch_size=batch_size, heatmap=targets is not None,
                            audit_to=trail):
        heatmap_path = None
        if targets is not None and item.prediction is not None and item.image is not None:
            heatmap_path = _write_heatmap(item.image, item.prediction, targets[item.path])
        record = records.record_from(str(item.path), item.prediction, item.image, item.error, heatmap_path,
                                     file_sha256=item.file_sha256, population=predictor.card.intended_population)
        failed += record["error"] is not None
        rejected += record["rejected"] is not None
        sink.add(record)
        del item  # the image may be 400 MB: not kept while the next one decodes
    sink.close()
    total = len(collected.files) + len(collected.missing)
    log.info("%d scored, %d not scored (rejected), %d failed", total - failed - rejected, rejected, failed)
    if collected.unreadable:
        log.error("%d folder%s or file%s could not be read; films in them were not scored",
                  len(collected.unreadable), *("s", "s") if len(collected.unreadable) > 1 else ("", ""))
    return finish(failed + len(collected.unreadable), trail)


def finish(failed: int, trail: AuditTrail) -> int:
    """The exit code once every record is out: EXIT_AUDIT when an audit line could not be written (the
    record the hospital keeps is incomplete, whatever else happened), else 1 when something failed."""
    if trail.failures:
        log.error("the audit log could not be written for %d result%s (is the disk full?): the results above "
                  "are valid, but the audit trail misses them", trail.failures, "" if trail.failures == 1 else "s")
        return EXIT_AUDIT
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _write_heatmap(image: LoadedImage, prediction: Prediction, target: Path) -> str | None:
    if prediction.cam is None:
        return None
    from pneumo_desktop.core.scoring import full_decode_of

    try:
        image = full_decode_of(image)
    except PneumoError as exc:
        log.error("%s: heatmap not written (%s)", target.name, exc)
        return None
    heatmap = prediction.heatmap(image.shape)
    if heatmap is None:
        return None
    heatmap = heatmap * score_strength(prediction.probability, prediction.threshold)
    try:
        # Overwriting was approved up front (--force, or the file did not exist then).
        atomic_write_bytes(target, png_bytes(blend_image(image.pixels, heatmap)))
    except OSError as exc:
        log.error("%s: heatmap could not be written (%s)", target.name, exc.strerror or exc)
        return None
    return str(target)
