"""The batch summary PDF: one row per image (thumbnail, name, probability, label, status), most likely
pneumonia first, images that were not scored or failed last."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath

import numpy as np
from fpdf.enums import MethodReturnValue, XPos, YPos
from PIL import Image

from pneumo_desktop import __version__
from pneumo_desktop.core.heatmap_render import to_gray_uint8
from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.records import Record, phi_safe_warnings, triage_key
from pneumo_desktop.core.result_text import (
    intended_population_text,
    metric_lines,
    metrics_heading,
    percent,
    sentence,
)
from pneumo_desktop.core.thumbnail import THUMB_SIDE, fit_within
from pneumo_desktop.report import fonts
from pneumo_desktop.report.document import WARNING_TEXT, ReportDocument, box_fit, now_text

TITLE = "Chest X-ray batch: probability of pneumonia"
ROW_H = 22.0
WARNING_PREFIX = "Warning: "
DETAIL_LIMIT = 900  # characters of reason and warnings under a name; the row grows to show them
# Column widths in mm (A4 portrait, 180 mm between margins).
COLUMNS = (("#", 9.0), ("Image", 23.0), ("Name", 78.0), ("Probability", 24.0), ("Label", 25.0), ("Status", 21.0))


@dataclass
class BatchEntry:
    record: Record  # from core.records.record_from
    thumbnail: np.ndarray | None = None  # gray, uint8 or float in [0, 1], any size


def suggested_batch_report_name() -> str:
    # A batch spans patients, so the name never carries one (hide-PHI or not).
    return f"pneumonia_batch_report_{datetime.now().strftime('%Y%m%d_%H%M')}.pdf"


def _display_name(record: Record, hide_phi: bool) -> str:
    if hide_phi:
        sha = record.get("file_sha256")
        return f"sha256 {sha[:12]}" if sha else "(unreadable file)"
    return PurePath(str(record.get("path", ""))).name


def _detail(record: Record, hide_phi: bool) -> str:
    """Why there is no score, if so, then every warning that qualifies the row, one per line."""
    warnings = phi_safe_warnings(record) if hide_phi else [str(w) for w in record.get("warnings") or []]
    lines = [_reason(record, hide_phi)] + [f"{WARNING_PREFIX}{w}" for w in warnings]
    return "\n".join(line for line in lines if line)


def _reason(record: Record, hide_phi: bool) -> str:
    text = record.get("error") or (record["rejected"]["reason"] if record.get("rejected") else "")
    if not text:
        return ""
    path = str(record.get("path", ""))
    name = PurePath(path).name
    # Error messages start with the file name, which the row already shows (or, with hide-PHI, must not).
    if name and text.startswith(f"{name}: "):
        text = text[len(name) + 2:]
    if hide_phi:
        for token in (path, name):
            if token:
                text = text.replace(token, "the file")
    return sentence(text)


def _status(record: Record) -> str:
    if record.get("error"):
        return "failed"
    if record.get("rejected"):
        return "not scored"
    return "scored" if record.get("probability") is not None else "no result"


def write_batch_report(
    out_path: Path,
    entries: Sequence[BatchEntry],
    card: ModelCard,
    *,
    hide_phi: bool,
    overwrite: bool = False,
) -> Path:
    out_path = Path(out_path)
    ordered = sorted(entries, key=lambda e: triage_key(e.record))
    names = [_display_name(e.record, hide_phi) for e in ordered]
    details = [_detail(e.record, hide_phi) for e in ordered]
    doc = ReportDocument(
        title=TITLE,
        subject=f"Assistive pneumonia probabilities from {card.display_name}",
        keywords=["pneumonia", "chest X-ray", "batch"],
        texts=names + details,
    )
    doc.add_page()
    doc.title_block(TITLE, f"{card.display_name} - report made {now_text()} by pneumo_desktop {__version__}")
    _summary(doc, [e.record for e in ordered], card, hide_phi)
    _table_header(doc)
    for index, (entry, name, detail) in enumerate(zip(ordered, names, details, strict=True), start=1):
        height = _row_height(doc, name, detail)
        if doc.get_y() + height > doc.page_break_trigger:
            doc.add_page()
            _table_header(doc)
        _row(doc, index, entry, name, detail, height)
    doc.ln(2)
    doc.heading("Model")
    doc.key_values([("Model", card.display_name), ("Model fingerprint", card.fingerprint),
                    ("Metrics", metrics_heading(card))] + [(f"  {n}", t) for n, t in metric_lines(card)], size=8.5)
    return doc.finish(intended_population_text(card), out_path, overwrite=overwrite)


def _summary(doc: ReportDocument, records: list[Record], card: ModelCard, hide_phi: bool) -> None:
    labels = [r.get("label") for r in records]
    failed = sum(1 for r in records if r.get("error"))
    not_scored = sum(1 for r in records if not r.get("error") and r.get("probability") is None)
    warned = sum(1 for r in records if r.get("warnings"))
    doc.paragraph(
        f"{len(records)} images: {labels.count('PNEUMONIA')} labelled PNEUMONIA, {labels.count('NORMAL')} "
        f"NORMAL, {not_scored} not scored, {failed} failed. Threshold {percent(card.threshold)} "
        "(PNEUMONIA when p ≥ threshold). Sorted by probability, highest first; images that were not "
        "scored or failed are listed last."
    )
    if warned:
        doc.warnings([f"{warned} image{'' if warned == 1 else 's'} carry warnings that qualify the score; "
                      "each is listed under the image's name."])
    if hide_phi:
        doc.paragraph("File names are hidden (hide-PHI): rows show the start of each file's sha256, as in "
                      "the audit log.", size=8, gray=True)
    doc.ln(2)


def _table_header(doc: ReportDocument) -> None:
    doc.set_font(fonts.FAMILY, "B", 8.5)
    doc.set_fill_color(235, 235, 235)
    for title, width in COLUMNS:
        doc.cell(width, 6, title, fill=True)
    doc.ln(6)


def _lines(doc: ReportDocument, text: str, width: float, style: str, size: float) -> int:
    doc.set_font(fonts.FAMILY, style, size)
    return len(doc.multi_cell(width, 4, text, dry_run=True, output=MethodReturnValue.LINES))


def _row_height(doc: ReportDocument, name: str, detail: str) -> float:
    """Tall enough for the thumbnail, or for the name and every warning under it (never cut off)."""
    width = COLUMNS[2][1] - 2
    needed = 2 + 4 * _lines(doc, _clip(name, 120), width, "", 8.5)
    if detail:
        needed += 3.2 * _lines(doc, _clip(detail, DETAIL_LIMIT), width, "", 7) + 1
    return max(ROW_H, needed)


def _row(doc: ReportDocument, index: int, entry: BatchEntry, name: str, detail: str, height: float = ROW_H) -> None:
    record = entry.record
    top = doc.get_y()
    x = doc.l_margin
    widths = [w for _, w in COLUMNS]
    doc.set_font(fonts.FAMILY, "", 8.5)
    doc.set_xy(x, top + 2)
    doc.cell(widths[0], 5, str(index))
    x += widths[0]
    if entry.thumbnail is not None:
        thumb = entry.thumbnail if entry.thumbnail.dtype == np.uint8 else to_gray_uint8(entry.thumbnail)
        image = fit_within(Image.fromarray(thumb), THUMB_SIDE)
        w, h = box_fit(image.size, widths[1] - 3, ROW_H - 2)
        doc.image(image, x=x + (widths[1] - 3 - w) / 2, y=top + 1, w=w, h=h)
    x += widths[1]
    doc.set_xy(x, top + 2)
    doc.multi_cell(widths[2] - 2, 4, _clip(name, 120), new_x=XPos.LEFT, new_y=YPos.NEXT, max_line_height=4)
    doc.set_font(fonts.FAMILY, "", 7)
    for line in _clip(detail, DETAIL_LIMIT).splitlines():
        doc.set_text_color(*(WARNING_TEXT if line.startswith(WARNING_PREFIX) else (110, 110, 110)))
        doc.set_x(x)
        doc.multi_cell(widths[2] - 2, 3.2, line, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    doc.set_text_color(0, 0, 0)
    x += widths[2]
    probability = record.get("probability")
    doc.set_font(fonts.FAMILY, "B", 9)
    doc.set_xy(x, top + 2)
    doc.cell(widths[3], 5, "" if probability is None else percent(probability))
    x += widths[3]
    doc.set_xy(x, top + 2)
    doc.cell(widths[4], 5, record.get("label") or "-")
    x += widths[4]
    doc.set_font(fonts.FAMILY, "", 8)
    doc.set_xy(x, top + 2)
    doc.cell(widths[5], 5, _status(record))
    bottom = top + height
    doc.set_draw_color(220, 220, 220)
    doc.line(doc.l_margin, bottom, doc.w - doc.r_margin, bottom)
    doc.set_draw_color(0, 0, 0)
    doc.set_xy(doc.l_margin, bottom)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "..."
