"""``pneumo-desktop report CURRENT --prior PRIOR [-o OUT.pdf]``: the two films side by side in one PDF.

Each film is scored on its own, exactly as alone (its own audit line); the pair must pass core/prior.py's
check (refused with the reason, exit 2), and a "compare" audit line names both films' hashes.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pneumo_desktop.cli import EXIT_MODEL, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, load_predictor
from pneumo_desktop.core.audit import record_compare
from pneumo_desktop.core.comparison import describe, repeat_spread
from pneumo_desktop.core.errors import PneumoError
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.core.prior import check_prior
from pneumo_desktop.core.score_warnings import population_warnings
from pneumo_desktop.core.scoring_notes import without_scoring_notes
from pneumo_desktop.report.comparison import ComparedFilm, write_comparison_report
from pneumo_desktop.report.errors import ReportError
from pneumo_desktop.report.single import suggested_report_name

log = logging.getLogger(__name__)


def _warned(image: LoadedImage, prediction: Prediction, population: dict) -> bool:
    """Refused, or scored with a note from the gate (orientation, unusual, polarity, adult look) or outside the
    intended population: then its number is less certain than the repeat-film spread allows for."""
    if prediction.probability is None:
        return True
    gate_notes = [w for w in image.warnings if w not in without_scoring_notes(image.warnings)]
    return bool(gate_notes or population_warnings(image.metadata, population))


def run_compare(current_path: Path, prior_path: Path, out: Path | None, force: bool, hide_phi: bool) -> int:
    from pneumo_desktop import paths
    from pneumo_desktop.cli.report import _writable
    from pneumo_desktop.core.loader import load_image
    from pneumo_desktop.core.scoring import score_shown

    try:
        current, prior = load_image(current_path), load_image(prior_path)
    except PneumoError as exc:
        log.error("%s", exc)
        return EXIT_SOME_FAILED
    check = check_prior(current.metadata, prior.metadata)
    if not check.allowed:
        log.error("not compared: %s", check.reason)
        return EXIT_USAGE
    target = Path(out) if out is not None else Path(suggested_report_name(current, hide_phi).replace(
        "_pneumonia_report.pdf", "_comparison_report.pdf"))
    if not _writable(target, force, [current_path, prior_path]):
        return EXIT_USAGE
    predictor = load_predictor()
    if predictor is None:
        return EXIT_MODEL
    films = []
    for path, image, role in ((prior_path, prior, "Prior"), (current_path, current, "Current")):
        try:
            scored = score_shown(predictor, path, lambda image=image: image, "cli")  # type: ignore[misc]
        except PneumoError as exc:
            log.error("%s", exc)
            return EXIT_SOME_FAILED
        image.adopt_warnings(scored.image)
        films.append(ComparedFilm(image, scored.prediction, role))
    before, now = films
    population = predictor.card.intended_population
    text = describe(before.prediction.probability, now.prediction.probability,
                    prior_date=str(prior.metadata.get("study_date") or ""),
                    current_date=str(current.metadata.get("study_date") or ""),
                    prior_warned=_warned(prior, before.prediction, population),
                    current_warned=_warned(current, now.prediction, population),
                    spread=repeat_spread(paths.models_dir(), predictor.card.fingerprint))
    try:
        write_comparison_report(target, now, before, predictor.card, check, text, hide_phi=hide_phi,
                                overwrite=force)
    except ReportError as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    record_compare(current.file_sha256, prior.file_sha256, predictor.card.display_name, predictor.card.fingerprint,
                   label=text.label)
    log.info("wrote %s", target.absolute())
    return EXIT_OK
