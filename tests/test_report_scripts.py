"""Issue 26, items 10-11: names in scripts DejaVu lacks appear on the page (a bundled font, or their code points
with a note), nothing raw on stderr; an over-long header value is cut with "…" on page 1 and kept whole nowhere
in the PDF, and the result, the heatmap and the disclaimer stay on page 1."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from pneumo_desktop import DISCLAIMER
from pneumo_desktop.launcher import main
from pneumo_desktop.report import fonts
from pneumo_desktop.report.single import FIELD_MAX_CHARS
from tests.conftest import SAMPLES
from tests.core.dicom_factory import make_dataset, write

# Family^Given in each script; the font that must draw it.
NAMES = {
    "thai": ("สมชาย^ใจดี", "NotoSansThai"),
    "devanagari": ("शर्मा^राहुल", "NotoSansDevanagari"),
    "tamil": ("முருகன்^செல்வம்", "NotoSansTamil"),
    "ethiopic": ("አበበ^ቢቂላ", "NotoSansEthiopic"),
    "bengali": ("রহমান^করিম", "NotoSansBengali"),
}


@pytest.fixture(autouse=True)
def _tiny_model(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))


def _film(tmp_path: Path, name: str, **tags: str) -> Path:
    pixels = np.asarray(Image.open(sorted((SAMPLES / "NORMAL").glob("*.jpeg"))[0]).convert("L"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about over-long values: that is the point of one test
        ds = make_dataset(pixels.astype(np.uint8), SpecificCharacterSet="ISO_IR 192", **tags)
        ds.PatientName = name
        return write(ds, tmp_path / "film.dcm")


def _report(tmp_path: Path, film: Path, capfd: pytest.CaptureFixture[str]) -> tuple[PdfReader, str]:
    target = tmp_path / "r.pdf"
    code = main(["report", str(film), "-o", str(target)])
    _, err = capfd.readouterr()
    assert code == 0, err
    return PdfReader(target), err


def _fonts_used(reader: PdfReader) -> set[str]:
    found = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            found.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return found


@pytest.mark.parametrize("script", sorted(NAMES))
def test_a_name_in_a_script_dejavu_lacks_is_printed_in_a_bundled_font(
        script: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    name, font = NAMES[script]
    reader, err = _report(tmp_path, _film(tmp_path, name), capfd)
    family, given = name.split("^")
    assert err.startswith("pneumo-desktop: wrote ") and err.count("\n") == 1, err  # nothing else on stderr
    assert any(used.startswith(font) for used in _fonts_used(reader)), _fonts_used(reader)
    text = reader.pages[0].extract_text()
    assert "Patient name ," not in " ".join(text.split())
    # Unshaped text extracts in stored order; every letter of the name is on the page.
    assert all(ch in text for ch in family + given if not ch.isspace()), text


def test_a_script_no_bundled_font_draws_is_printed_as_code_points_with_a_note(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    reader, err = _report(tmp_path, _film(tmp_path, "කමල්^පෙරේරා"), capfd)  # Sinhala: not bundled
    assert err.count("\n") == 1 and "missing" not in err, err
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "<U+0D9A>" in text  # ක, the first letter
    assert " ".join(fonts.ESCAPE_NOTE.split()) in " ".join(text.split())


def test_bidi_isolates_are_left_out_and_nothing_reaches_stderr(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    reader, err = _report(tmp_path, _film(tmp_path, "\u2067Doe\u2069^\u2066Jane\u2069"), capfd)
    assert err.count("\n") == 1, err
    text = reader.pages[0].extract_text()
    assert "Doe, Jane" in text and "<U+2067>" not in text


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()}")


def test_library_log_lines_never_reach_stderr_or_quote_the_text(capfd: pytest.CaptureFixture[str]) -> None:
    """What the window's log file would get (a handler on the root logger) and what stderr gets."""
    fonts.quiet_library_logs()
    kept, ours = _Kept(), logging.getLogger("pneumo_desktop")
    root, level = logging.getLogger(), ours.level
    root.addHandler(kept)
    ours.setLevel(logging.DEBUG)
    try:
        logging.getLogger("fpdf.output").warning("Font X is missing the following glyphs: 'ส' (\\u0e2a)")
        logging.getLogger("fontTools.subset").warning("Missing glyphs for: 'ส'")
    finally:
        root.removeHandler(kept)
        ours.setLevel(level)
    _, err = capfd.readouterr()
    assert err == ""
    assert not any("ส" in line or "0e2a" in line for line in kept.lines), kept.lines
    assert any("fpdf.output logged a WARNING message" in line for line in kept.lines), kept.lines


def test_an_over_long_header_value_is_cut_and_the_result_stays_on_page_1(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    long_value = "Institution " + "X" * 10_000
    reader, _ = _report(tmp_path, _film(tmp_path, "Doe^Jane", InstitutionName=long_value), capfd)
    assert len(reader.pages) <= 2  # before: 8
    first = " ".join(reader.pages[0].extract_text().split())
    everything = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "Probability of pneumonia:" in first and "Image with heatmap" in first
    assert " ".join(DISCLAIMER.split()) in first
    assert "X" * FIELD_MAX_CHARS not in everything.replace(" ", "")  # cut on the page...
    assert "…" in first
    metadata = " ".join(str(v) for v in (reader.metadata or {}).values())
    assert "X" * 100 not in metadata  # ...and whole nowhere else in the PDF


def test_every_bundled_font_is_present_with_its_licence_and_recorded_origin() -> None:
    """resources/ travels whole into the bundle (installer/pneumo_desktop.spec): what is here ships."""
    import hashlib

    folder = fonts.fonts_dir()
    notice = (folder / "NOTICE-Noto.txt").read_text(encoding="utf-8")
    assert (folder / "LICENSE-Noto.txt").read_text(encoding="utf-8").count("SIL Open Font License") >= 1
    for _, filename in fonts.FALLBACKS:
        assert (folder / filename).is_file(), filename
        if filename.startswith("Noto"):
            digest = hashlib.sha256((folder / filename).read_bytes()).hexdigest()
            assert f"{digest}  {filename}" in notice, filename
