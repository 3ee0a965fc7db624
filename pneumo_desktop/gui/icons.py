"""Icons are plain SVG files in resources/icons, looked up by name and cached (Frescobaldi's scheme)."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from pneumo_desktop import paths


@cache
def icon(name: str) -> QIcon:
    """The named icon; a missing file gives an empty icon (menus still show the text)."""
    path = paths.resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()
