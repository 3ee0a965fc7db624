"""The texts of the image's corner overlay, as plain functions so they are testable without a view."""

from __future__ import annotations

from pneumo_desktop.gui.display_image import DisplayImage


def image_lines(display: DisplayImage, label: str) -> list[str]:
    image = display.image
    rows, cols = image.shape
    meta = image.metadata
    kind = "DICOM" if image.kind == "dicom" else "Image"
    lines = [label, f"{kind} · {cols} × {rows} px"]
    lossy = str(meta.get("lossy_compression") or "").strip().upper()
    if lossy in ("01", "YES", "TRUE", "1"):
        lines.append("LOSSY COMPRESSED")
    return lines


def cursor_lines(cursor: tuple[int, int, float] | None, center: float, width: float, preset: str,
                 inverted: bool) -> list[str]:
    """Pixel value (display units 0-1, the model's own input scale), window and the negative flag."""
    lines = []
    if cursor is not None:
        row, col, value = cursor
        lines.append(f"Value {value:.3f} at x {col}, y {row}")
    lines.append(f"W {width:.3f}  L {center:.3f}  ({preset})")
    if inverted:
        lines.append("INVERTED")
    return lines


def geometry_lines(zoom: float, orientation: str) -> list[str]:
    lines = [f"Zoom {zoom * 100:.0f} %"]
    if orientation:
        lines.append(orientation)
    return lines
