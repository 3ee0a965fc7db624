"""The texts of the image's corner overlay, as plain functions so they are testable without a view."""

from __future__ import annotations

from collections.abc import Callable

from pneumo_desktop.gui.dicom_units import ModalityUnits
from pneumo_desktop.gui.display_image import DisplayImage

SEPARATOR = " · "


def fit_lines(lines: list[str], width: int, advance: Callable[[str], int],
              elide: Callable[[str, int], str]) -> list[str]:
    """``lines`` within ``width`` pixels: a line too wide breaks at its " · " separators (the patient line
    "Name · ID · DOB · Sex" becomes two lines, never a cut name), and a part still too wide is elided."""
    out: list[str] = []
    for line in lines:
        if advance(line) <= width:
            out.append(line)
            continue
        current = ""
        for part in line.split(SEPARATOR):
            joined = f"{current}{SEPARATOR}{part}" if current else part
            if current and advance(joined) > width:
                out.append(current)
                joined = part
            current = joined if advance(joined) <= width else elide(joined, width)
        if current:
            out.append(current)
    return out


def corner_widths(left: int, right: int, available: int) -> tuple[int, int]:
    """How two corners of one edge share its width: both as wide as they need when they fit; else the
    narrower keeps its width up to half, and the other gets the rest."""
    if left + right <= available:
        return left, right
    half = available // 2
    if left <= half:
        return left, available - left
    if right <= half:
        return available - right, right
    return half, available - half


def image_lines(display: DisplayImage, label: str) -> list[str]:
    image = display.image
    rows, cols = image.shape
    meta = image.metadata
    kind = "DICOM" if image.kind == "dicom" else "Image"
    lines = [label, f"{kind}{SEPARATOR}{cols} × {rows} px"]
    lossy = str(meta.get("lossy_compression") or "").strip().upper()
    if lossy in ("01", "YES", "TRUE", "1"):
        lines.append("LOSSY COMPRESSED")
    return lines


def cursor_lines(cursor: tuple[int, int, float] | None, center: float, width: float, preset: str,
                 inverted: bool, units: ModalityUnits | None = None) -> list[str]:
    """Pixel value and window in the DICOM's units where known (dicom_units), else on the display scale 0-1
    (the model's own input scale); and the negative flag."""
    lines = []
    if cursor is not None:
        row, col, value = cursor
        shown = units.value_text(value) if units is not None else f"{value:.3f}"
        lines.append(f"Value {shown} at x {col}, y {row}")
    if units is not None:
        level, window_width = units.window(center, width)
        lines.append(f"W {window_width:.0f}  L {level:.0f}  ({preset})")
    else:
        lines.append(f"W {width:.3f}  L {center:.3f}  ({preset})")
    if inverted:
        lines.append("INVERTED")
    return lines


def geometry_lines(zoom: float, orientation: str) -> list[str]:
    lines = [f"Zoom {zoom * 100:.0f} %"]
    if orientation:
        lines.append(orientation)
    return lines
