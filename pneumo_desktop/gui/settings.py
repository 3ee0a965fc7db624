"""The only QSettings user: typed getters/setters with defaults (HOUSE_STYLE F2, Frescobaldi's pairs).

The file is an INI in the platformdirs config folder (``PNEUMO_DESKTOP_HOME`` redirects it, so tests and
portable installs never touch the user's real settings). QSettings writes it through a temporary file
and a rename, so a crash never leaves half a settings file.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from pneumo_desktop import paths
from pneumo_desktop.dicom_net.node_config import NodeConfig

SETTINGS_FILENAME = "settings.ini"
MAX_RECENT = 10
DEFAULT_OPACITY = 0.5


class Settings:
    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._s = qsettings or QSettings(str(paths.config_dir() / SETTINGS_FILENAME), QSettings.Format.IniFormat)

    def _bytes(self, key: str) -> QByteArray:
        value = self._s.value(key)
        return value if isinstance(value, QByteArray) else QByteArray()

    def _str(self, key: str, default: str = "") -> str:
        value = self._s.value(key, default)
        return str(value) if value is not None else default

    def _bool(self, key: str, default: bool) -> bool:
        value = self._s.value(key, default)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    # window
    @property
    def geometry(self) -> QByteArray:
        return self._bytes("window/geometry")

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._s.setValue("window/geometry", value)

    @property
    def window_state(self) -> QByteArray:
        return self._bytes("window/state")

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._s.setValue("window/state", value)

    # folders
    @property
    def last_folder(self) -> str:
        return self._str("files/last_folder")

    @last_folder.setter
    def last_folder(self, value: str | Path) -> None:
        self._s.setValue("files/last_folder", str(value))

    @property
    def export_folder(self) -> str:
        return self._str("files/export_folder")

    @export_folder.setter
    def export_folder(self, value: str | Path) -> None:
        self._s.setValue("files/export_folder", str(value))

    # view
    @property
    def overlay_opacity(self) -> float:
        try:
            value = float(self._s.value("view/overlay_opacity", DEFAULT_OPACITY))
        except (TypeError, ValueError):
            return DEFAULT_OPACITY
        return min(max(value, 0.0), 1.0)

    @overlay_opacity.setter
    def overlay_opacity(self, value: float) -> None:
        self._s.setValue("view/overlay_opacity", float(value))

    @property
    def heatmap_visible(self) -> bool:
        return self._bool("view/heatmap_visible", True)

    @heatmap_visible.setter
    def heatmap_visible(self, value: bool) -> None:
        self._s.setValue("view/heatmap_visible", bool(value))

    @property
    def hide_phi(self) -> bool:
        return self._bool("privacy/hide_phi", False)

    @hide_phi.setter
    def hide_phi(self, value: bool) -> None:
        self._s.setValue("privacy/hide_phi", bool(value))

    @property
    def dicom_panel_expanded(self) -> bool:
        return self._bool("view/dicom_panel_expanded", True)

    @dicom_panel_expanded.setter
    def dicom_panel_expanded(self, value: bool) -> None:
        self._s.setValue("view/dicom_panel_expanded", bool(value))

    # DICOM nodes: one JSON value, read through NodeConfig.from_json (a damaged value never turns listening on)
    @property
    def dicom_nodes(self) -> NodeConfig:
        return NodeConfig.from_json(self._str("dicom/nodes"))

    @dicom_nodes.setter
    def dicom_nodes(self, value: NodeConfig) -> None:
        self._s.setValue("dicom/nodes", value.to_json())

    # recent files
    @property
    def recent_files(self) -> list[str]:
        value = self._s.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or []) if v][:MAX_RECENT]

    def add_recent(self, path: str | Path) -> list[str]:
        text = str(path)
        recent = [text] + [p for p in self.recent_files if p != text]
        self._s.setValue("files/recent", recent[:MAX_RECENT])
        return recent[:MAX_RECENT]

    def clear_recent(self) -> None:
        self._s.setValue("files/recent", [])

    def sync(self) -> None:
        self._s.sync()

    @property
    def file_name(self) -> str:
        return self._s.fileName()
