"""Renders resources/icons/app.svg to the raster icons the platforms want.

    python installer/make_icons.py            resources/icons/app.png (256 px, for the .desktop entry)
    python installer/make_icons.py --all      also build/icons/app.ico (Windows) and build/icons/app.icns (macOS)

Needs PySide6 (QtSvg) and Pillow, both in the app's dependencies. The PNG is committed, so a Linux build
does not need this; the Windows and macOS recipes run it first.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "app.svg"
PNG = ROOT / "resources" / "icons" / "app.png"
OUT = ROOT / "build" / "icons"


def render(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(["make_icons", "-platform", "offscreen"])
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(SVG)).render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="also write the Windows .ico and macOS .icns")
    args = parser.parse_args(argv)
    PNG.write_bytes(render(256))
    print(f"wrote {PNG}")
    if args.all:
        from PIL import Image

        OUT.mkdir(parents=True, exist_ok=True)
        big = Image.open(io.BytesIO(render(1024))).convert("RGBA")
        big.save(OUT / "app.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
        big.save(OUT / "app.icns")
        print(f"wrote {OUT / 'app.ico'} and {OUT / 'app.icns'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
