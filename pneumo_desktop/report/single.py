"""The one-image PDF report: patient/study fields, image and heatmap side by side, the result and what it
means, the model and its metrics, the hashes that match the audit log, and the intended-use notice."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from fpdf.enums import XPos, YPos

from pneumo_desktop import DISCLAIMER, __version__
from pneumo_desktop.core.heatmap_render import blend_image, score_strength, scored_heatmap, scored_view
from pneumo_desktop.core.image import PHI_KEYS, LoadedImage
from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.orientation import describe
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.core.result_text import (
    HEATMAP_CAPTION,
    intended_population_text,
    meaning,
    metric_lines,
    metrics_heading,
    percent,
    sentence,
    threshold_reason,
)
from pneumo_desktop.core.score_warnings import score_warnings
from pneumo_desktop.report import fonts
from pneumo_desktop.report.document import ReportDocument, box_fit, gray_image, now_text

TITLE = "Chest X-ray: probability of pneumonia"
PATIENT_FIELDS = (
    ("patient_name", "Patient name"), ("patient_id", "Patient ID"), ("birth_date", "Birth date"),
    ("sex", "Sex"), ("age", "Age"),
)
STUDY_FIELDS = (
    ("accession_number", "Accession no."), ("institution", "Institution"), ("study_date", "Study date"),
    ("modality", "Modality"), ("view_position", "View"), ("body_part", "Body part"),
)
FIELD_LABELS = PATIENT_FIELDS + STUDY_FIELDS
IMAGE_BOX_W, IMAGE_BOX_H, IMAGE_GAP = 88.0, 92.0, 4.0
# A header value is cut to this many characters on the page (DICOM's LO and a PN group hold 64): a
# 10,000-character institution pushed the result to page 7 of 8. The whole value stays in the DICOM file only.
FIELD_MAX_CHARS = 64
_UNSAFE_NAME = re.compile(r"[^\w.-]+")


def person_name(value: Any) -> str:
    """DICOM PN "Family^Given^Middle" (with "=" between alphabetic/ideographic/phonetic groups) for people."""
    groups = []
    for group in str(value).split("="):
        parts = [p.strip() for p in group.split("^")]
        family, rest = (parts[0], " ".join(p for p in parts[1:] if p)) if parts else ("", "")
        text = f"{family}, {rest}" if family and rest else family or rest
        if text:
            groups.append(text)
    return " / ".join(groups)


def _date(value: Any) -> str:
    text = str(value)
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


def shown_fields(image: LoadedImage, hide_phi: bool,
                 labels: tuple[tuple[str, str], ...] = FIELD_LABELS) -> list[tuple[str, str]]:
    """The patient/study lines of the report; nothing in PHI_KEYS when ``hide_phi``."""
    meta = image.metadata
    lines = []
    for key, label in labels:
        if hide_phi and key in PHI_KEYS:
            continue
        value = meta.get(key)
        if value is None or str(value).strip() == "":
            continue
        if key == "patient_name":
            text = person_name(value)
        elif key in ("birth_date", "study_date"):
            text = _date(value)
        else:
            text = str(value)
        lines.append((label, cut(text)))
    return lines


def cut(text: str, limit: int = FIELD_MAX_CHARS) -> str:
    """``text`` on one field of the page: at most ``limit`` characters, the last one "…" when it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _safe_name(text: str, limit: int = 80) -> str:
    cleaned = _UNSAFE_NAME.sub("_", text.replace("^", "_")).strip("._")
    return cleaned[:limit].rstrip("._")


def suggested_report_name(image: LoadedImage, hide_phi: bool) -> str:
    """A file name for the report: patient and study date when known, never anything PHI with hide-PHI."""
    if hide_phi:
        return f"pneumonia_report_{image.file_sha256[:12]}.pdf"
    meta = image.metadata
    parts = [str(meta[k]) for k in ("patient_name", "study_date") if meta.get(k)]
    base = _safe_name("_".join(parts)) if parts else ""
    if not base:
        base = _safe_name(image.path.stem) or image.file_sha256[:12]
    return f"{base}_pneumonia_report.pdf"


def write_single_report(
    out_path: Path,
    image: LoadedImage,
    prediction: Prediction,
    card: ModelCard,
    *,
    hide_phi: bool,
    overwrite: bool = False,
) -> Path:
    """Write the report atomically; raises ReportError (exists, unwritable, fonts missing)."""
    out_path = Path(out_path)
    fields = shown_fields(image, hide_phi)
    name = cut(person_name(image.metadata["patient_name"])) if image.metadata.get("patient_name") else ""
    title = TITLE if hide_phi or not name else f"{TITLE} - {name}"
    file_name = "(hidden)" if hide_phi else cut(image.path.name)
    doc = ReportDocument(
        title=title,
        subject=f"Assistive pneumonia probability from {card.display_name}",
        keywords=["pneumonia", "chest X-ray", f"file sha256 {image.file_sha256}"],
        texts=[value for _, value in fields] + [file_name],
    )
    doc.add_page()
    doc.title_block(TITLE, f"{card.display_name} - report made {now_text()} by pneumo_desktop {__version__}")

    doc.heading("Patient and study")
    if hide_phi:
        doc.paragraph("Patient identifiers are hidden (hide-PHI was on when this report was made).", gray=True)
    if not fields:
        doc.paragraph("The file carries no patient or study data (not a DICOM file, or the tags are empty).", gray=True)
    doc.two_columns(shown_fields(image, hide_phi, PATIENT_FIELDS),
                    shown_fields(image, hide_phi, STUDY_FIELDS) + [("File", file_name)])

    _images(doc, image, prediction)
    _result(doc, prediction, card, score_warnings(image, prediction, card.intended_population, hide_phi=hide_phi))
    # On page 1 with the result and the heatmap it qualifies, not after the model's metrics on page 2.
    doc.ln(1)
    if doc.get_y() + doc.text_height(DISCLAIMER, 9, bold=True) > doc.page_break_trigger:
        doc.add_page()  # whole, never split over two pages (two half-notices read as neither)
    doc.paragraph(DISCLAIMER, bold=True)
    _model(doc, image, prediction, card)

    return doc.finish(intended_population_text(card), out_path, overwrite=overwrite, disclaimer=False)


def orientation_line(prediction: Prediction) -> str | None:
    """Which orientation the result belongs to, when the reader chose it."""
    if prediction.displayed is None:
        return None
    return (f"Orientation set by the reader (Score as Displayed): {describe(prediction.displayed)}. The images "
            "above show the film as it was scored; the model's own orientation check was not used.")


def _images(doc: ReportDocument, image: LoadedImage, prediction: Prediction) -> None:
    plain = gray_image(scored_view(image, prediction)[0] if prediction.displayed else image.pixels)
    heatmap = scored_heatmap(prediction, (plain.height, plain.width))  # at the drawn (maybe reduced) size
    if heatmap is not None:
        heatmap = heatmap * score_strength(prediction.probability, prediction.threshold)
    w, h = box_fit(plain.size, IMAGE_BOX_W, IMAGE_BOX_H)
    if doc.get_y() + h + 12 > doc.h - 18:
        doc.add_page()
    doc.ln(2)
    top = doc.get_y()
    left = doc.l_margin + (IMAGE_BOX_W - w) / 2
    right_x = doc.l_margin + IMAGE_BOX_W + IMAGE_GAP
    doc.image(plain, x=left, y=top, w=w, h=h, alt_text="The radiograph")
    if heatmap is not None:
        overlay = blend_image(np.asarray(plain, dtype=np.float32) / 255.0, heatmap)
        doc.image(overlay, x=right_x + (IMAGE_BOX_W - w) / 2, y=top, w=w, h=h,
                  alt_text="The radiograph with the Grad-CAM heatmap")
    else:
        doc.set_draw_color(200, 200, 200)
        doc.rect(right_x + (IMAGE_BOX_W - w) / 2, top, w, h)
        doc.set_xy(right_x, top + h / 2 - 3)
        doc.set_font(fonts.FAMILY, "", 9)
        doc.multi_cell(IMAGE_BOX_W, 5, "No heatmap: the image was not scored.", align="C")
    doc.set_font(fonts.FAMILY, "", 8)
    doc.set_xy(doc.l_margin, top + h + 1)
    if prediction.displayed:  # long for a caption: a size smaller, so it stays under its image
        doc.set_font(fonts.FAMILY, "", 7)
        doc.cell(IMAGE_BOX_W, 4, f"As the reader scored it: {describe(prediction.displayed)}", align="C")
        doc.set_font(fonts.FAMILY, "", 8)
    else:
        doc.cell(IMAGE_BOX_W, 4, "Image (default window)", align="C")
    doc.set_x(right_x)
    doc.cell(IMAGE_BOX_W, 4, "Image with heatmap", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if heatmap is not None:
        doc.legend_bar(right_x + 14, doc.get_y() + 0.5, IMAGE_BOX_W - 28)
        doc.set_xy(doc.l_margin, doc.get_y() + 4.5)
        if float(np.max(heatmap)) <= 0.0:
            doc.set_x(right_x)
            doc.set_font(fonts.FAMILY, "", 7.5)
            doc.cell(IMAGE_BOX_W, 4, "(no region stood out for this image)", align="C",
                     new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.ln(1)


def _result(doc: ReportDocument, prediction: Prediction, card: ModelCard, warnings: list[str]) -> None:
    doc.heading("Result")
    oriented = orientation_line(prediction)
    if oriented:
        doc.paragraph(oriented, size=9, bold=True)
    if prediction.rejected is not None or prediction.probability is None:
        doc.paragraph("Not scored", size=14, bold=True)
        if prediction.rejected is not None:
            doc.paragraph(sentence(prediction.rejected.reason))
            doc.paragraph(f"Details: {prediction.rejected.details_line()}", size=8, gray=True)
        else:
            doc.paragraph(meaning(prediction))
        doc.warnings(warnings)
        return
    doc.set_font(fonts.FAMILY, "B", 16)
    doc.cell(0, 8, f"Probability of pneumonia: {percent(prediction.probability)}",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font(fonts.FAMILY, "B", 11)
    doc.cell(0, 6, f"Label: {prediction.label}    (threshold {percent(prediction.threshold)}: "
                   "PNEUMONIA when p ≥ threshold)", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.warnings(warnings)
    doc.paragraph(meaning(prediction))
    reason = threshold_reason(card, prediction.probability)
    if reason:
        doc.paragraph(reason, size=8.5)
    doc.ln(0.5)
    doc.paragraph(HEATMAP_CAPTION, size=8, gray=True)


def _model(doc: ReportDocument, image: LoadedImage, prediction: Prediction, card: ModelCard) -> None:
    # The metrics table is read as one: start it on the next page rather than split it (issue 24 C15).
    if doc.get_y() + 8 + 4.5 * (len(metric_lines(card)) + 8) > doc.page_break_trigger:
        doc.add_page()
    doc.heading("Model and traceability")
    pairs = [("Model", card.display_name), ("Metrics", metrics_heading(card))]
    pairs += [(f"  {name}", text) for name, text in metric_lines(card)]
    pairs += [
        ("Model fingerprint", prediction.model_sha256 or card.fingerprint),
        ("File sha256", image.file_sha256),
        ("Model time", f"{prediction.elapsed_ms:.0f} ms (this image and its heatmap)"),
        ("App version", __version__),
    ]
    doc.key_values(pairs, size=8.5)
    doc.paragraph("The hashes match this image's line in the app's audit log.", size=7.5, gray=True)
