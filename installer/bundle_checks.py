"""Checks that a Linux bundle can open its window on a desktop that lacks the less common X11 libraries.

Qt's xcb platform plugin links a dozen libxcb helper libraries. PyInstaller copies them from the build machine
into the bundle, but a library missing *there* is silently skipped (a "Library not found" warning), and the
bundle then aborts (rc 134, "could not load the Qt platform plugin xcb") on every desktop without it. So:

  python installer/bundle_checks.py preflight QT_DIR   before PyInstaller: the build machine has them all
  python installer/bundle_checks.py bundle BUNDLE      after: the bundle carries them, every library the xcb
                                                       plugin needs resolves, no symlink is broken, and no file
                                                       needs a newer glibc / libstdc++ than the stated minimum

Standard library only (it runs in build.sh, in the smoke test and in the cheap test suite).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# The xcb plugin's libraries that desktops often lack (a minimal GNOME/KDE/Xfce install, a thin client), with
# the Debian/Ubuntu package that provides each: the bundle must carry these. libxcb, libX11, libGL, fontconfig
# and freetype are on every X11 desktop and are the system's to provide (PyInstaller leaves them out on purpose).
MUST_CARRY = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
}
# For the message when something else the plugin links is missing on the build machine.
PACKAGES = {
    **MUST_CARRY,
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}
# The oldest system the bundle supports: glibc 2.35 (Ubuntu 22.04, Debian 12, Fedora 36, RHEL 10). The bundle does
# not carry libstdc++/libgcc_s/libexpat (the build machine's needed glibc 2.36) but uses the system's, so its C++
# libraries must not need a newer libstdc++ than GCC 11's (RHEL 9, Ubuntu 22.04 ship 11 and 12). What sets 2.35
# is the interpreter (libpython3.11, built on the build machine): RHEL 9's 2.34 would need a Python built there.
MIN_GLIBC = "2.35"
MAX_SYMBOL_VERSIONS = {"GLIBC": MIN_GLIBC, "GLIBCXX": "3.4.29", "CXXABI": "1.3.13"}
XCB_PLUGIN = "plugins/platforms/libqxcb.so"
XCB_QPA = "lib/libQt6XcbQpa.so.6"


def unresolved(libraries: list[Path], library_path: list[Path]) -> list[str]:
    """Sonames that ``ldd`` cannot resolve for ``libraries``, searching ``library_path`` first."""
    env = dict(os.environ, LD_LIBRARY_PATH=os.pathsep.join(map(str, library_path)))
    missing: set[str] = set()
    for library in libraries:
        out = subprocess.run(["ldd", str(library)], env=env, capture_output=True, text=True, check=False,
                             timeout=60).stdout
        missing |= set(re.findall(r"^\s*(\S+) => not found", out, flags=re.MULTILINE))
    return sorted(missing)


def install_hint(sonames: list[str]) -> str:
    packages = sorted({PACKAGES[s] for s in sonames if s in PACKAGES})
    unknown = [s for s in sonames if s not in PACKAGES]
    hint = f"apt-get install {' '.join(packages)}" if packages else ""
    if unknown:
        hint += ("; and " if hint else "") + "the packages providing " + ", ".join(unknown)
    return hint


def preflight(qt_dir: Path) -> list[str]:
    """Problems that would make PyInstaller leave the xcb plugin's libraries out (``qt_dir``: PySide6/Qt)."""
    plugin, qpa = qt_dir / XCB_PLUGIN, qt_dir / XCB_QPA
    if not plugin.is_file():
        return [f"no xcb platform plugin at {plugin}"]
    missing = unresolved([plugin, qpa], [qt_dir / "lib"])
    if missing:
        return [f"the build machine lacks {', '.join(missing)}, which Qt's xcb plugin links; the bundle would "
                f"not open its window. Install them: {install_hint(missing)}"]
    return []


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def symbol_versions(library: Path) -> dict[str, str]:
    """The newest GLIBC / GLIBCXX / CXXABI version each kind of symbol ``library`` imports needs."""
    out = subprocess.run(["objdump", "-T", str(library)], capture_output=True, text=True, check=False,
                         timeout=60).stdout
    newest: dict[str, str] = {}
    for kind, version in re.findall(r"\b(GLIBC|GLIBCXX|CXXABI)_([0-9]+(?:\.[0-9]+)+)\b", out):
        if kind not in newest or _version(version) > _version(newest[kind]):
            newest[kind] = version
    return newest


def too_new_for_the_minimum(bundle: Path) -> list[str]:
    """Files of the bundle that need a newer glibc or libstdc++ than MAX_SYMBOL_VERSIONS allows."""
    found = []
    for path in sorted(bundle.rglob("*")):
        if path.is_symlink() or not path.is_file() or not (".so" in path.name or path.name == "pneumo-desktop"):
            continue
        for kind, version in symbol_versions(path).items():
            if _version(version) > _version(MAX_SYMBOL_VERSIONS[kind]):
                found.append(f"{path.relative_to(bundle)} needs {kind}_{version}")
    return found


def broken_symlinks(bundle: Path) -> list[str]:
    return sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_symlink() and not p.exists())


def check_bundle(bundle: Path) -> list[str]:
    internal = bundle / "_internal"
    qt_dir = internal / "PySide6" / "Qt"
    problems = []
    carried = {p.name for p in internal.rglob("*.so*")}
    absent = [name for name in MUST_CARRY if name not in carried]
    if absent:
        problems.append(f"the bundle does not carry {', '.join(absent)} (install them on the build machine: "
                        f"{install_hint(absent)}, then rebuild)")
    plugin = qt_dir / XCB_PLUGIN
    if not plugin.is_file():
        problems.append(f"the bundle has no xcb platform plugin ({plugin.relative_to(bundle)})")
    else:
        # Resolved against the bundle first, as the bootloader does; what is left must come from the system.
        missing = unresolved([plugin, qt_dir / XCB_QPA], [internal, qt_dir / "lib"])
        if missing:
            problems.append(f"the xcb plugin's libraries {', '.join(missing)} resolve neither in the bundle nor "
                            "on this machine")
    broken = broken_symlinks(bundle)
    if broken:
        problems.append(f"broken symlinks in the bundle: {', '.join(broken[:10])}")
    if shutil.which("objdump") is None:
        problems.append("objdump (binutils) is needed to check the glibc the bundle needs")
    else:
        newer = too_new_for_the_minimum(bundle)
        if newer:
            problems.append(f"the bundle would not run on glibc {MIN_GLIBC} (the stated minimum): "
                            f"{'; '.join(newer[:10])}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("preflight", "bundle"):
        print(__doc__, file=sys.stderr)
        return 2
    target = Path(argv[1])
    problems = preflight(target) if argv[0] == "preflight" else check_bundle(target)
    for problem in problems:
        print(f"{argv[0]} check: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
