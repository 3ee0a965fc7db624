"""The bundled Unicode fonts of the PDF reports (resources/fonts, licences and origins beside them), and the rule
that no character of a patient's name vanishes from a page.

DejaVu Sans covers Latin, Greek, Cyrillic, Armenian, Georgian, Hebrew and Arabic letters. Patient names in DICOM
are often Chinese, Japanese or Korean (character sets ISO 2022 IR 87/149, GB18030), which DejaVu lacks, so Droid
Sans Fallback (CJK) and NanumSquare (Hangul) are added as fallback fonts; Noto Sans adds Thai, Ethiopic and the
scripts of India (Devanagari, Bengali, Gujarati, Gurmukhi, Kannada, Malayalam, Tamil, Telugu). A fallback is
loaded only when a text needs it: parsing 4.7 MB of fonts costs about half a second.

A character that no bundled font draws used to be dropped by fpdf2, which then logged the name's characters
("missing the following glyphs") raw on stderr: "Patient name ," on the page. Now ``printable`` writes such a
character as its code point, "<U+0D9A>", and the report says so; invisible formatting characters (bidi
isolates and marks, which fpdf2 without a shaping engine cannot apply) are left out. The libraries' own log
lines are kept off stderr and out of the log files, as they quote the text being printed.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from fpdf import FPDF

from pneumo_desktop import paths
from pneumo_desktop.report.errors import ReportError

FAMILY = "dejavu"
_REGULAR, _BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
# In the order fpdf2 tries them for a character the main font lacks.
FALLBACKS = (
    ("droidfallback", "DroidSansFallbackFull.ttf"), ("nanumsquare", "NanumSquareR.ttf"),
    ("notothai", "NotoSansThai-Regular.ttf"), ("notodevanagari", "NotoSansDevanagari-Regular.ttf"),
    ("notobengali", "NotoSansBengali-Regular.ttf"), ("notogujarati", "NotoSansGujarati-Regular.ttf"),
    ("notogurmukhi", "NotoSansGurmukhi-Regular.ttf"), ("notokannada", "NotoSansKannada-Regular.ttf"),
    ("notomalayalam", "NotoSansMalayalam-Regular.ttf"), ("nototamil", "NotoSansTamil-Regular.ttf"),
    ("nototelugu", "NotoSansTelugu-Regular.ttf"), ("notoethiopic", "NotoSansEthiopic-Regular.ttf"),
)
ESCAPE_NOTE = ("Characters that the report's fonts cannot draw are printed as their Unicode code points "
               "(<U+…>), so that no part of a name is lost; the DICOM file holds the original.")
log = logging.getLogger(__name__)
# fpdf2 logs a font's missing glyphs, and fontTools its subsetting, quoting the characters of the text.
_LIBRARY_LOGGERS = ("fpdf", "fontTools")


def fonts_dir() -> Path:
    return paths.resources_dir() / "fonts"


def _font_file(name: str) -> Path:
    path = fonts_dir() / name
    if not path.is_file():
        raise ReportError(f"the report font {name} is missing from this installation; reinstall the app")
    return path


@cache
def _coverage(filename: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(_font_file(filename), lazy=True) as font:
        return frozenset(font.getBestCmap())


def _primary_coverage() -> frozenset[int]:
    return _coverage(_REGULAR)


def _drawable(code: int) -> bool:
    return code in _primary_coverage() or any(code in _coverage(filename) for _, filename in FALLBACKS)


def _uncovered(texts: Iterable[str]) -> set[int]:
    covered = _primary_coverage()
    return {ord(ch) for text in texts for ch in text if not ch.isspace() and ord(ch) not in covered}


def needs_fallback(texts: Iterable[str]) -> bool:
    return bool(_uncovered(texts))


def printable(text: str) -> str:
    """``text`` with every character some bundled font draws, invisible formatting characters left out, and
    anything else as "<U+XXXX>". Costs one set look-up per character for text the main font covers."""
    covered = _primary_coverage()
    if all(ord(ch) in covered or ch.isspace() for ch in text):
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if code in covered or ch.isspace() or _drawable(code):
            out.append(ch)
        elif unicodedata.category(ch) != "Cf":  # Cf: bidi isolates and marks, zero-width joiners...
            out.append(f"<U+{code:04X}>")
    return "".join(out)


def register(pdf: FPDF, texts: Iterable[str] = ()) -> None:
    """Add the report fonts to ``pdf``; ``texts`` are the variable strings (names) it will print, after
    ``printable``. Only the fallbacks those need are loaded."""
    pdf.add_font(FAMILY, "", _font_file(_REGULAR))
    pdf.add_font(FAMILY, "B", _font_file(_BOLD))
    missing = _uncovered(texts)
    needed = [(family, filename) for family, filename in FALLBACKS if missing & _coverage(filename)]
    if not needed:
        return
    for family, filename in needed:
        pdf.add_font(family, "", _font_file(filename))
    # exact_match=False: bold text falls back to the regular face rather than to nothing.
    pdf.set_fallback_fonts([family for family, _ in needed], exact_match=False)


class _QuietLibraryLog(logging.Handler):
    """Takes the PDF libraries' log records: one line at DEBUG in ours, without their text (it quotes the
    characters being printed, a patient's name among them)."""

    def emit(self, record: logging.LogRecord) -> None:
        log.debug("%s logged a %s message (not repeated: it may quote the report's text)", record.name,
                  record.levelname)


def quiet_library_logs() -> None:
    """Keep fpdf2's and fontTools' log records off stderr (Python's last-resort handler printed them raw) and
    out of the app's log files. Idempotent."""
    for name in _LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        if not any(isinstance(h, _QuietLibraryLog) for h in library.handlers):
            library.addHandler(_QuietLibraryLog())
        library.propagate = False
