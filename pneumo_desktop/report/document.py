"""The page frame every report shares: fonts, header/footer, text helpers, metadata and the atomic save.

Why fpdf2: it is pure Python (no C extension to build or bundle per platform), small, embeds subsetted
Unicode TrueType fonts with per-glyph fallback fonts (CJK patient names), takes Pillow images directly and
sets the PDF metadata we must control for hide-PHI. Qt's QPdfWriter is out because reports are also made
headless by the CLI, which must not import Qt; reportlab (BSD) would also do, but it is several times
larger and has no glyph fallback, so a CJK name would need its own font switching. fpdf2 is LGPL-3.0:
we use it unmodified as a separate library, which the LGPL allows from MIT code; the installer must ship
it as replaceable files with its licence text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image

from pneumo_desktop import APP_NAME, DISCLAIMER, __version__
from pneumo_desktop.core.atomic import atomic_write_bytes
from pneumo_desktop.core.heatmap_render import colour_lut, to_gray_uint8
from pneumo_desktop.core.thumbnail import fit_within
from pneumo_desktop.report import fonts
from pneumo_desktop.report.errors import ReportError

MARGIN = 15.0
TEXT_GRAY = (90, 90, 90)
RULE_GRAY = (200, 200, 200)
WARNING_FILL, WARNING_TEXT = (255, 243, 205), (92, 68, 0)  # the window's warning colours (app.qss)
EMBED_MAX_SIDE = 1024  # pixels; enough for print at the sizes used, keeps a report under ~1 MB


def now_text() -> str:
    stamp = datetime.now().astimezone()
    return stamp.strftime("%Y-%m-%d %H:%M ") + f"(UTC{stamp.strftime('%z')[:3]}:{stamp.strftime('%z')[3:]})"


class ReportDocument(FPDF):
    """A4 portrait with the app's running footer."""

    def __init__(self, *, title: str, subject: str, keywords: Sequence[str] = (), texts: Iterable[str] = ()) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        fonts.quiet_library_logs()
        self.escaped = False  # whether some text was printed with code points for characters no font draws
        try:
            fonts.register(self, [fonts.printable(text) for text in texts])
        except (OSError, RuntimeError) as exc:
            raise ReportError(f"the report fonts could not be loaded: {exc}") from exc
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=18)
        self.set_image_filter("DCTDecode")  # JPEG: radiographs as Flate would be ten times larger
        # Only what the caller passes goes into the metadata: with hide-PHI the callers pass nothing
        # patient-related, so the PDF's Info dictionary cannot leak it either.
        self.set_title(title)
        self.set_subject(subject)
        self.set_author(APP_NAME)
        self.set_creator(f"{APP_NAME} {__version__}")
        self.set_keywords(", ".join(keywords))
        self.set_lang("en")
        self.set_font(fonts.FAMILY, "", 10)

    def normalize_text(self, text: str) -> str:
        """Every string fpdf2 prints passes here: characters no bundled font draws become code points (see
        fonts.printable), never nothing."""
        shown = fonts.printable(text)
        if shown != text and "<U+" in shown:
            self.escaped = True
        return super().normalize_text(shown)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(fonts.FAMILY, "", 7.5)
        self.set_text_color(*TEXT_GRAY)
        self.cell(0, 5, f"{APP_NAME} {__version__} - assists a clinician, does not diagnose", align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"page {self.page_no()}/{{nb}}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)

    # --- text helpers -------------------------------------------------------------------------------
    def title_block(self, title: str, subtitle: str) -> None:
        self.set_font(fonts.FAMILY, "B", 15)
        self.multi_cell(0, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(fonts.FAMILY, "", 8.5)
        self.set_text_color(*TEXT_GRAY)
        self.multi_cell(0, 4.5, subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.rule()

    def rule(self) -> None:
        self.ln(1.5)
        self.set_draw_color(*RULE_GRAY)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_draw_color(0, 0, 0)
        self.ln(2)

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 40:
            self.add_page()
        self.ln(1)
        self.set_font(fonts.FAMILY, "B", 11)
        self.cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(fonts.FAMILY, "", 9)

    def text_height(self, text: str, size: float = 9, bold: bool = False) -> float:
        """How tall ``paragraph(text, size, bold)`` will be, in mm (a dry run, nothing drawn)."""
        self.set_font(fonts.FAMILY, "B" if bold else "", size)
        height = self.multi_cell(0, size * 0.48, text, dry_run=True, output="HEIGHT")
        return float(height)

    def paragraph(self, text: str, size: float = 9, bold: bool = False, gray: bool = False) -> None:
        self.set_font(fonts.FAMILY, "B" if bold else "", size)
        if gray:
            self.set_text_color(*TEXT_GRAY)
        self.multi_cell(0, size * 0.48, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)

    def warnings(self, warnings: Sequence[str], size: float = 9) -> None:
        """What qualifies the score, on an amber band right under it (as in the window), one line each."""
        if not warnings:
            return
        self.ln(1)
        self.set_fill_color(*WARNING_FILL)
        self.set_text_color(*WARNING_TEXT)
        self.set_font(fonts.FAMILY, "B", size)
        title = "Warning" if len(warnings) == 1 else f"{len(warnings)} warnings"
        self.multi_cell(0, size * 0.55, f"{title} (read the score with these in mind):", fill=True,
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(fonts.FAMILY, "", size)
        for warning in warnings:
            self.multi_cell(0, size * 0.5, f"• {warning}", fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.ln(1.5)

    def key_values(self, pairs: Sequence[tuple[str, str]], key_width: float = 38, size: float = 9,
                   x: float | None = None, width: float = 0) -> None:
        """Label/value lines; ``x`` and ``width`` place them in a column (default: the full text width)."""
        left = self.l_margin if x is None else x
        value_width = (width - key_width) if width else 0
        for key, value in pairs:
            self.set_x(left)
            self.set_font(fonts.FAMILY, "B", size)
            self.cell(key_width, size * 0.5, key)
            self.set_font(fonts.FAMILY, "", size)
            self.multi_cell(value_width, size * 0.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def two_columns(self, left: Sequence[tuple[str, str]], right: Sequence[tuple[str, str]],
                    key_width: float = 28, size: float = 9) -> None:
        top = self.get_y()
        half = (self.w - self.l_margin - self.r_margin - 4) / 2
        self.key_values(left, key_width, size, x=self.l_margin, width=half)
        left_bottom = self.get_y()
        self.set_y(top)
        self.key_values(right, key_width, size, x=self.l_margin + half + 4, width=half)
        self.set_y(max(left_bottom, self.get_y()))

    def legend_bar(self, x: float, y: float, width: float, height: float = 3.5) -> None:
        """The heatmap colour map as a bar, "less" to "more" influence."""
        lut = colour_lut()
        steps = 48
        for i in range(steps):
            r, g, b = (int(v) for v in lut[round(i * 255 / (steps - 1))])
            self.set_fill_color(r, g, b)
            self.rect(x + i * width / steps, y, width / steps + 0.05, height, style="F")
        self.set_font(fonts.FAMILY, "", 7)
        self.set_text_color(*TEXT_GRAY)
        self.set_xy(x, y + height)
        self.cell(width / 2, 3.5, "less influence", align="L")
        self.cell(width / 2, 3.5, "more influence", align="R")
        self.set_text_color(0, 0, 0)

    def finish(self, intended_use: str, out_path: Path, *, overwrite: bool, disclaimer: bool = True) -> Path:
        """Every report ends the same way: a note when some characters were printed as code points, the
        intended use, the disclaimer (unless the report printed it already, ``disclaimer=False``), then the
        atomic write. The block is kept on one page: a disclaimer split over two reads as two half-notices."""
        if self.escaped:
            self.paragraph(fonts.ESCAPE_NOTE, size=7.5, gray=True)
        needed = 9 + self.text_height(intended_use, 9)
        if disclaimer:
            needed += 1 + self.text_height(DISCLAIMER, 9, bold=True)
        if self.get_y() + needed > self.page_break_trigger:
            self.add_page()
        self.heading("Intended use")
        self.paragraph(intended_use)
        if disclaimer:
            self.ln(1)
            self.paragraph(DISCLAIMER, bold=True)
        self.save(out_path, overwrite=overwrite)
        return out_path

    def save(self, out_path: Path, *, overwrite: bool) -> None:
        out_path = Path(out_path)
        if not overwrite and out_path.exists():
            raise ReportError(f"{out_path.name} already exists; choose another name or allow overwriting")
        if not out_path.parent.is_dir():
            raise ReportError(f"the folder for {out_path.name} does not exist")
        data = bytes(self.output())
        try:
            atomic_write_bytes(out_path, data, overwrite=overwrite)
        except FileExistsError as exc:
            raise ReportError(f"{out_path.name} already exists; choose another name or allow overwriting") from exc
        except OSError as exc:
            raise ReportError(f"{out_path.name} could not be written: {exc.strerror or exc}") from exc


def gray_image(pixels: np.ndarray, max_side: int = EMBED_MAX_SIDE) -> Image.Image:
    """The image for embedding, downscaled with antialiasing so a 3000-px film stays small."""
    image = Image.fromarray(to_gray_uint8(pixels))
    return fit_within(image, max_side)


def box_fit(image_size: tuple[int, int], box_w: float, box_h: float) -> tuple[float, float]:
    """(w, h) in mm of an image of ``image_size`` pixels fitted inside a box, aspect kept."""
    width, height = image_size
    scale = min(box_w / width, box_h / height)
    return width * scale, height * scale
