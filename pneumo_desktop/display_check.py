"""Before Qt loads on Linux: are the system libraries its X11 (xcb) platform plugin needs there?

Without them Qt aborts with "xcb-cursor0 is needed" whichever library is really missing (on a fresh Debian
it is usually libxcb-icccm4 and libxcb-keysyms1), and a core dump. One line naming what is missing and the
command that installs it saves the user a search. Qt-free and model-free: runs first in the launcher.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

# soname -> (Debian/Ubuntu package, Fedora/RHEL package, openSUSE package, Arch package): what the PySide6 xcb
# plugin (libqxcb.so + libQt6XcbQpa) and QtGui link against and PySide6 does not bundle.
LIBRARIES: dict[str, tuple[str, str, str, str]] = {
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb1", "libxcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil", "libxcb-render-util0",
                                "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "libxcb-util1", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb-xkb1", "libxcb"),
    "libX11.so.6": ("libx11-6", "libX11", "libX11-6", "libx11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libX11-xcb1", "libx11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libGL1", "libglvnd"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libEGL1", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "libfontconfig1", "fontconfig"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "libdbus-1-3", "dbus"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "libglib-2_0-0", "glib2"),
}
PROG_HINT = "pneumo-desktop predict / report"
_FAMILIES = {  # /etc/os-release ID or ID_LIKE word -> (column in LIBRARIES, install command)
    "debian": (0, "sudo apt install"), "ubuntu": (0, "sudo apt install"),
    "fedora": (1, "sudo dnf install"), "rhel": (1, "sudo dnf install"), "centos": (1, "sudo dnf install"),
    "suse": (2, "sudo zypper install"), "opensuse": (2, "sudo zypper install"),
    "arch": (3, "sudo pacman -S"),
}


def _loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def _bundled_dirs() -> list[Path]:
    """Where a wheel or a frozen build ships libraries of its own (found by Qt's rpath, not by dlopen here)."""
    dirs = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        dirs.append(Path(frozen))
    spec = importlib.util.find_spec("PySide6")  # locates the package without loading Qt
    if spec is not None and spec.submodule_search_locations:
        dirs += [Path(p) / "Qt" / "lib" for p in spec.submodule_search_locations]
    return dirs


def missing_libraries(loadable: Callable[[str], bool] = _loadable,
                      bundled: Iterable[Path] | None = None) -> list[str]:
    folders = list(_bundled_dirs() if bundled is None else bundled)
    return [name for name in LIBRARIES
            if not any((folder / name).exists() for folder in folders) and not loadable(name)]


def uses_xcb(environ: dict[str, str] | os._Environ[str] = os.environ, platform: str = sys.platform) -> bool:
    """Will Qt try the xcb plugin first? Not off Linux, not when QT_QPA_PLATFORM names another plugin, and not
    in a Wayland session (Qt 6 picks its wayland plugin there)."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip().lower()
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return environ.get("XDG_SESSION_TYPE", "").lower() != "wayland" or not environ.get("WAYLAND_DISPLAY")


def _family(os_release: str) -> tuple[int, str] | None:
    words: list[str] = []
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            words += value.strip().strip('"').lower().split()
    for word in words:
        if word in _FAMILIES:
            return _FAMILIES[word]
    return None


def install_hint(missing: list[str], os_release: str) -> str:
    family = _family(os_release)
    if family is not None:
        column, command = family
        packages = dict.fromkeys(LIBRARIES[name][column] for name in missing)
        return f"{command} {' '.join(packages)}"
    debian = " ".join(dict.fromkeys(LIBRARIES[name][0] for name in missing))
    fedora = " ".join(dict.fromkeys(LIBRARIES[name][1] for name in missing))
    return f"Debian/Ubuntu: sudo apt install {debian}; Fedora/RHEL: sudo dnf install {fedora}"


def problem(environ: dict[str, str] | os._Environ[str] = os.environ, platform: str = sys.platform,
            loadable: Callable[[str], bool] = _loadable, bundled: Iterable[Path] | None = None,
            os_release_path: Path = Path("/etc/os-release")) -> str | None:
    """One line for the terminal when the window cannot open here (system libraries missing, or no X display to
    open it on), else None."""
    if not uses_xcb(environ, platform):
        return None
    missing = missing_libraries(loadable, bundled)
    if not missing:
        if environ.get("DISPLAY"):
            return None
        # An SSH session on a fresh server: Qt's own message is an abort with a core dump.
        return ("pneumo-desktop: the window cannot open: there is no X display (DISPLAY is not set; start it from "
                f"a desktop session, or ssh -X). The command line works here ({PROG_HINT}; "
                "QT_QPA_PLATFORM=offscreen for anything Qt-based without a screen).")
    try:
        os_release = os_release_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        os_release = ""
    return (
        f"pneumo-desktop: the window cannot open: system libraries missing for Qt's X11 plugin: "
        f"{', '.join(missing)}. Install them with: {install_hint(missing, os_release)} . Meanwhile the "
        f"command line works ({PROG_HINT}; QT_QPA_PLATFORM=offscreen for anything Qt-based without a screen)."
    )
