"""The bundled Unicode fonts of the PDF reports (resources/fonts, licences beside them).

DejaVu Sans covers Latin, Greek, Cyrillic, Hebrew and Arabic letters. Patient names in DICOM are often
Chinese, Japanese or Korean (character sets ISO 2022 IR 87/149, GB18030), which DejaVu lacks, so Droid
Sans Fallback (CJK) and NanumSquare (Hangul) are added as fallback fonts, and only when a text needs
them: parsing 4.7 MB of fonts costs about half a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF

from pneumo_desktop import paths
from pneumo_desktop.report.errors import ReportError

FAMILY = "dejavu"
_REGULAR, _BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
FALLBACKS = (("droidfallback", "DroidSansFallbackFull.ttf"), ("nanumsquare", "NanumSquareR.ttf"))


def fonts_dir() -> Path:
    return paths.resources_dir() / "fonts"


def _font_file(name: str) -> Path:
    path = fonts_dir() / name
    if not path.is_file():
        raise ReportError(f"the report font {name} is missing from this installation; reinstall the app")
    return path


@lru_cache(maxsize=1)
def _primary_coverage() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(_font_file(_REGULAR), lazy=True) as font:
        return frozenset(font.getBestCmap())


def needs_fallback(texts: Iterable[str]) -> bool:
    covered = _primary_coverage()
    return any(ord(ch) not in covered for text in texts for ch in text if not ch.isspace())


def register(pdf: FPDF, texts: Iterable[str] = ()) -> None:
    """Add the report fonts to ``pdf``; ``texts`` are the variable strings (names) it will print."""
    pdf.add_font(FAMILY, "", _font_file(_REGULAR))
    pdf.add_font(FAMILY, "B", _font_file(_BOLD))
    if needs_fallback(texts):
        for family, filename in FALLBACKS:
            pdf.add_font(family, "", _font_file(filename))
        # exact_match=False: bold text falls back to the regular CJK face rather than to nothing.
        pdf.set_fallback_fonts([family for family, _ in FALLBACKS], exact_match=False)
