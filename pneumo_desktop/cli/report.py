"""``pneumo-desktop report PATH [-o OUT.pdf]``: a file gives the single report, a folder the batch summary.

Exit codes as for ``predict``: 0 written; 1 written but some images failed, or the one image failed and
no report was written; 2 usage error (existing output without --force, no inputs, output not writable);
3 the model could not be loaded.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pneumo_desktop.cli import EXIT_MODEL, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, dicom_export, load_predictor
from pneumo_desktop.cli.predict import finish, report_inputs
from pneumo_desktop.core.audit import AuditTrail
from pneumo_desktop.core.collect import Collected, collect_inputs, input_folders, is_inside, overwrites_input
from pneumo_desktop.core.errors import PneumoError
from pneumo_desktop.core.records import record_from
from pneumo_desktop.report.batch import BatchEntry, suggested_batch_report_name, write_batch_report
from pneumo_desktop.report.errors import ReportError
from pneumo_desktop.report.single import suggested_report_name, write_single_report

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)
# Bytes in one path component, and in a whole path, on Linux (macOS allows 1024 for the path).
_NAME_MAX, _PATH_MAX = 255, 4096


def _output_path(out: Path | None, suggested: str, collected: Collected) -> Path | None:
    """An explicit -o is the user's choice; the default (current folder) must not be an input folder."""
    if out is not None:
        return Path(out)
    target = Path.cwd() / suggested
    if is_inside(target.parent, input_folders(collected)):
        log.error("the current folder holds the input; give the report's path with -o")
        return None
    return target


def _writable(target: Path, force: bool, inputs: list[Path]) -> bool:
    name_bytes, path_bytes = len(os.fsencode(target.name)), len(os.fsencode(os.path.abspath(target)))
    if name_bytes > _NAME_MAX or path_bytes >= _PATH_MAX:
        # Refused here: the file system would refuse it only after the image was read and scored.
        what = f"name is too long ({name_bytes} bytes; the limit is {_NAME_MAX})" if name_bytes > _NAME_MAX \
            else f"path is too long ({path_bytes} bytes; the limit is {_PATH_MAX - 1})"
        log.error("the report's %s: %s…", what, target.name[:40])
        return False
    if overwrites_input(target, inputs):
        # Never, even with --force: the PDF would replace the very image it reports on.
        log.error("%s is an input of this report; a report never overwrites its input (choose another -o)",
                  target.name)
        return False
    # os.path, not Path: Path.exists() raises on a name too long instead of answering.
    if os.path.lexists(target) and not force:
        log.error("%s already exists; use --force to overwrite it", target.name)
        return False
    if not os.path.isdir(target.parent):
        log.error("the folder for %s does not exist", target.name)
        return False
    return True


def run_report(path: str, *, out: Path | None = None, force: bool = False, hide_phi: bool = False,
               batch_size: int = 16, dicom_dir: Path | None = None, prior: str | None = None) -> int:
    source = Path(path)
    collected = collect_inputs([source] + ([Path(prior)] if prior else []))
    if collected.missing:
        for missing in collected.missing:
            log.error("%s: no such file or folder", missing.name or missing)
        return EXIT_USAGE
    if prior is not None:
        if collected.folders:
            log.error("--prior compares two films: give a file for PATH and for --prior, not a folder")
            return EXIT_USAGE
        if dicom_dir is not None:
            log.error("--prior with --dicom is not available yet: write the comparison PDF, and each film's DICOM "
                      "results with its own `report FILM --dicom`")
            return EXIT_USAGE
        from pneumo_desktop.cli.compare import run_compare

        return run_compare(source, Path(prior), out, force, hide_phi)
    if collected.folders:
        if dicom_dir is not None:
            log.error("--dicom takes one DICOM file, not a folder: give the file whose results go to the PACS")
            return EXIT_USAGE
        return _batch(collected, out, force, hide_phi, batch_size)
    return _single(source, collected, out, force, hide_phi, dicom_dir)


def _single(source: Path, collected: Collected, out: Path | None, force: bool, hide_phi: bool,
            dicom_dir: Path | None = None) -> int:
    from pneumo_desktop.core.loader import load_image

    if out is not None and not _writable(Path(out), force, [source]):
        return EXIT_USAGE  # checked before the image is read: refusing should be instant
    if dicom_dir is not None and not dicom_export.allowed_before_load(source, dicom_dir, hide_phi, force):
        return EXIT_USAGE
    try:
        image = load_image(source)
    except PneumoError as exc:
        log.error("%s", exc)
        return EXIT_SOME_FAILED
    if dicom_dir is not None and not dicom_export.allowed_for(image):
        return EXIT_USAGE
    target = _output_path(out, suggested_report_name(image, hide_phi), collected)
    if target is None or not _writable(target, force, [source]):
        return EXIT_USAGE
    predictor = load_predictor()
    if predictor is None:
        return EXIT_MODEL
    from pneumo_desktop.core.scoring import score_shown

    trail = AuditTrail("cli")

    try:
        # The page shows the full-resolution image; the model reads the file its own way.
        scored = score_shown(predictor, source, lambda: image, trail)
    except PneumoError as exc:
        log.error("%s", exc)
        return EXIT_SOME_FAILED
    except Exception as exc:  # a traceback helps nobody at the command line; the log keeps it
        log.error("%s: the model could not score this image (%s)", source.name, type(exc).__name__)
        log.debug("model failure", exc_info=True)
        return EXIT_SOME_FAILED
    image.adopt_warnings(scored.image)
    try:
        write_single_report(target, image, scored.prediction, predictor.card, hide_phi=hide_phi, overwrite=force)
    except ReportError as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    log.info("wrote %s", target.absolute())
    code = EXIT_OK
    if dicom_dir is not None:
        code = dicom_export.write(dicom_dir, target, image, scored.prediction, predictor.card, force)
    return finish(0, trail) if trail.failures else code


def _batch(collected: Collected, out: Path | None, force: bool, hide_phi: bool, batch_size: int) -> int:
    report_inputs(collected)
    if not collected.files:
        log.error("no image files found")
        return EXIT_SOME_FAILED if collected.unreadable else EXIT_USAGE
    target = _output_path(out, suggested_batch_report_name(), collected)
    if target is None or not _writable(target, force, collected.files):
        return EXIT_USAGE
    predictor = load_predictor()
    if predictor is None:
        return EXIT_MODEL
    from pneumo_desktop.core.scoring import iter_scored

    entries, failed = [], 0
    trail = AuditTrail("cli")
    for item in iter_scored(predictor, collected.files, batch_size=batch_size, thumbnails=True, audit_to=trail):
        record = record_from(str(item.path), item.prediction, item.image, item.error,
                             file_sha256=item.file_sha256, population=predictor.card.intended_population)
        failed += item.error is not None
        entries.append(BatchEntry(record, item.thumbnail))
        del item  # only the thumbnail is kept; the image may be 400 MB
    try:
        write_batch_report(target, entries, predictor.card, hide_phi=hide_phi, overwrite=force)
    except ReportError as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    log.info("wrote %s (%d images, %d failed)", target.absolute(), len(entries), failed)
    return finish(failed + len(collected.unreadable), trail)
