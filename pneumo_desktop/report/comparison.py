"""The comparison PDF: a film and its prior side by side (prior left, current right, the radiology convention),
each with its heatmap, date, result and warnings, then the comparison worded as two separate readings
(core/comparison.py), the check that paired them (core/prior.py), and the intended-use notice."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pneumo_desktop import __version__
from pneumo_desktop.core.comparison import ComparisonText
from pneumo_desktop.core.heatmap_render import blend_image, score_strength
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.core.prior import PriorCheck
from pneumo_desktop.core.result_text import intended_population_text, percent, sentence
from pneumo_desktop.core.score_warnings import score_warnings
from pneumo_desktop.report import fonts
from pneumo_desktop.report.document import ReportDocument, box_fit, gray_image, now_text
from pneumo_desktop.report.single import PATIENT_FIELDS, person_name, shown_fields

TITLE = "Chest X-ray compared with the prior film"
PANE_W, PANE_H, GAP = 88.0, 88.0, 4.0


@dataclass(frozen=True)
class ComparedFilm:
    image: LoadedImage
    prediction: Prediction
    role: str  # "Prior" or "Current"


def _date(image: LoadedImage) -> str:
    text = str(image.metadata.get("study_date") or "")
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else "date unknown"


def _pane(doc: ReportDocument, film: ComparedFilm, x: float, top: float, caption_y: float) -> float:
    """One film with its heatmap drawn over it, its caption at ``caption_y``; returns the y below it."""
    plain = gray_image(film.image.pixels)
    w, h = box_fit(plain.size, PANE_W, PANE_H)
    picture = plain
    prediction = film.prediction
    heatmap = prediction.heatmap((plain.height, plain.width))
    if heatmap is not None:
        heatmap = heatmap * score_strength(prediction.probability, prediction.threshold)
        picture = blend_image(np.asarray(plain, dtype=np.float32) / 255.0, heatmap)
    doc.image(picture, x=x + (PANE_W - w) / 2, y=top, w=w, h=h,
              alt_text=f"The {film.role.lower()} film" + (" with its heatmap" if heatmap is not None else ""))
    doc.set_xy(x, caption_y)
    doc.set_font(fonts.FAMILY, "B", 9)
    doc.cell(PANE_W, 5, f"{film.role} · {_date(film.image)}", align="C")
    return caption_y + 6


def _result_lines(film: ComparedFilm, card: ModelCard, hide_phi: bool) -> list[str]:
    prediction = film.prediction
    if prediction.probability is None:
        reason = sentence(prediction.rejected.reason) if prediction.rejected is not None else "not scored"
        head = f"{film.role}: not scored. {reason}"
    else:
        head = f"{film.role}: {percent(prediction.probability)}, {prediction.label}"
    warnings = score_warnings(film.image, prediction, card.intended_population, hide_phi=hide_phi)
    return [head] + [f"⚠ {w}" for w in warnings]


def write_comparison_report(out_path: Path, current: ComparedFilm, prior: ComparedFilm, card: ModelCard,
                            check: PriorCheck, text: ComparisonText, *, hide_phi: bool,
                            overwrite: bool = False) -> Path:
    """Write the comparison atomically; raises ReportError as the single report does."""
    fields = shown_fields(current.image, hide_phi, PATIENT_FIELDS)
    name = person_name(current.image.metadata["patient_name"]) if current.image.metadata.get("patient_name") else ""
    title = TITLE if hide_phi or not name else f"{TITLE} - {name}"
    names = ["(hidden)", "(hidden)"] if hide_phi else [prior.image.path.name, current.image.path.name]
    doc = ReportDocument(
        title=title, subject=f"Two readings by {card.display_name}, current and prior film",
        keywords=["pneumonia", "chest X-ray", "comparison", f"current sha256 {current.image.file_sha256}",
                  f"prior sha256 {prior.image.file_sha256}"],
        texts=[value for _, value in fields] + names,
    )
    doc.add_page()
    doc.title_block(TITLE, f"{card.display_name} - report made {now_text()} by pneumo_desktop {__version__}")
    doc.heading("Patient")
    if hide_phi:
        doc.paragraph("Patient identifiers are hidden (hide-PHI was on when this report was made).", gray=True)
    doc.key_values(fields or [("Patient", "the files carry no patient data")], size=8.5)
    if check.reason:
        doc.warnings([check.reason])
    doc.heading("Films (prior left, current right)")
    top = doc.get_y() + 1
    tallest = max(box_fit(gray_image(f.image.pixels).size, PANE_W, PANE_H)[1] for f in (prior, current))
    _pane(doc, prior, doc.l_margin, top, top + tallest + 1)
    bottom = _pane(doc, current, doc.l_margin + PANE_W + GAP, top, top + tallest + 1)
    doc.set_xy(doc.l_margin, bottom)
    doc.heading("Comparison")
    doc.paragraph(text.headline, size=11, bold=True)
    if text.label:
        doc.paragraph(f"Current reading {text.label} than the prior.", size=10, bold=True)
    doc.paragraph(text.explanation, size=9)
    for film in (prior, current):
        lines = _result_lines(film, card, hide_phi)
        doc.paragraph(lines[0], size=9.5, bold=True)
        doc.warnings([line[2:] for line in lines[1:]], size=8.5)
    doc.key_values([("Prior file", names[0]), ("Prior sha256", prior.image.file_sha256),
                    ("Current file", names[1]), ("Current sha256", current.image.file_sha256),
                    ("Model fingerprint", current.prediction.model_sha256 or card.fingerprint)], size=7.5)
    return doc.finish(intended_population_text(card), out_path, overwrite=overwrite)
