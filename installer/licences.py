"""Collects the licence notices of everything a PyInstaller bundle carries into one folder.

Imported by ``pneumo_desktop.spec`` after the Analysis step, so it sees exactly the modules and shared
libraries that were bundled rather than everything in the build venv. Standard library only (with the app's
stdlib-only ``licence_index``, the About box's source too): it runs inside PyInstaller's interpreter and in the
cheap test suite.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata as md
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from pneumo_desktop.licence_index import licence_name  # stdlib only, shared with the About box

LICENCE_PATTERNS = ("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*", "COPYRIGHT*", "THIRDPARTYNOTICES*")
HERE = Path(__file__).resolve().parent
# Distributions that only build the bundle; their code is not in it (PyInstaller's bootloader is
# covered separately, below).
BUILD_ONLY = {"pip", "setuptools", "wheel", "pyinstaller", "pyinstaller-hooks-contrib", "altgraph", "packaging"}
APP_DISTRIBUTION = "pneumo-desktop"  # the app itself: its notice is written first, from the checkout
# Wheels that ship no licence file of their own: what applies and where its text lives.
MISSING_TEXTS = {
    "pyside6-essentials": ("LGPL-3.0-only (Qt for Python, and the Qt libraries it carries)",
                           ["LGPL-3.0.txt", "GPL-3.0.txt"]),
    "shiboken6": ("LGPL-3.0-only", ["LGPL-3.0.txt", "GPL-3.0.txt"]),
    "pyjpegls": ("MIT (pyjpegls); the CharLS library it wraps is BSD-3-Clause, "
                 "https://github.com/team-charls/charls/blob/main/LICENSE.md", []),
}
# Libraries that wheels vendor (auditwheel's <dist>.libs/ folders) without shipping the library's own notice:
# the name's prefix before the hash, what applies, and the text in installer/licenses/. python-gdcm links
# OpenSSL 1.1.1k (libcrypto/libssl, for its DICOM encryption support, which this app never calls), whose
# licence requires the notice with every binary redistribution.
VENDORED_NOTICES = {
    "libcrypto-": ("OpenSSL 1.1.1 (OpenSSL License and original SSLeay License)", "OpenSSL-1.1.1.txt"),
    "libssl-": ("OpenSSL 1.1.1 (OpenSSL License and original SSLeay License)", "OpenSSL-1.1.1.txt"),
}
QT_NOTE = """\
Qt and PySide6 are used under the GNU Lesser General Public License version 3 (LGPL-3.0.txt, which
refers to GPL-3.0.txt, both in this folder). They are dynamically linked: the Qt and PySide6 shared
libraries are the files named libQt6*.so*, libpyside6*.so* and libshiboken6*.so* and the PySide6/ and
shiboken6/ folders inside this bundle's _internal/ folder, and you may replace them with compatible
builds of your own. Source code: https://download.qt.io/official_releases/ and
https://code.qt.io/cgit/pyside/pyside-setup.git/ (PySide6 {pyside}).
"""


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def top_level_names(dest_names: Iterable[str]) -> set[str]:
    """Import names at the top of the bundle, from module names (a.b.c) and file paths (a/b.so)."""
    tops = set()
    for name in dest_names:
        first = name.replace("\\", "/").split("/")[0]
        if "/" not in name.replace("\\", "/") and "." in first and not first.endswith((".py", ".pyc")):
            # A module name from a.pure, or a top-level extension file such as _openjpeg.cpython-311-....so
            first = first.split(".")[0]
        tops.add(first)
    return tops


def bundled_distributions(tops: set[str]) -> list[md.Distribution]:
    mapping = md.packages_distributions()
    names = sorted({d for top in tops for d in mapping.get(top, [])})
    dists = []
    for name in names:
        if _norm(name) in BUILD_ONLY or _norm(name) == APP_DISTRIBUTION:
            continue
        try:
            dists.append(md.distribution(name))
        except md.PackageNotFoundError:
            continue
    return dists


def licence_files(dist: md.Distribution) -> list[tuple[Path, str]]:
    """(source file, path relative to the distribution's folder in LICENSES/): the dist-info's licence files, and
    those at the top of the package's own folder (onnxruntime keeps its LICENSE and ThirdPartyNotices.txt there,
    none in its dist-info)."""
    found = []
    for record in dist.files or []:
        parts = record.parts
        in_dist_info = bool(parts) and parts[0].endswith(".dist-info")
        if not parts or not (in_dist_info or (len(parts) == 2 and not parts[0].endswith(".libs"))):
            continue
        name = parts[-1]
        if not any(fnmatch.fnmatch(name.upper(), p.upper()) for p in LICENCE_PATTERNS):
            continue
        source = Path(str(dist.locate_file(record)))
        if source.is_file():
            # Keep the layout under licenses/ (torch names its third-party notices by their path).
            inner = parts[2:] if len(parts) > 2 and parts[1] == "licenses" else parts[1:]
            if not in_dist_info:
                inner = (f"{parts[0]}-{parts[1]}",)
            found.append((source, "/".join(inner)))
    return found


def _debian_copyright(library: Path) -> tuple[str, Path] | None:
    try:
        out = subprocess.run(["dpkg", "-S", str(library.resolve())], capture_output=True, text=True,
                             check=False, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    package = out.split(":", 1)[0].strip() if out else ""
    copyright_file = Path("/usr/share/doc") / package / "copyright"
    return (package, copyright_file) if package and copyright_file.is_file() else None


def vendored_notices(binary_sources: Iterable[str]) -> dict[str, tuple[str, str, set[str]]]:
    """{LICENSES/ folder: (what applies, text file, the wheels' .libs folders carrying it)} for the bundled
    libraries named in VENDORED_NOTICES."""
    found: dict[str, tuple[str, str, set[str]]] = {}
    for source in binary_sources:
        path = Path(source)
        for prefix, (what, text) in VENDORED_NOTICES.items():
            if path.name.startswith(prefix) and path.parent.name.endswith(".libs"):
                folder = "vendored-" + Path(text).stem.lower()
                found.setdefault(folder, (what, text, set()))[2].add(path.parent.name)
    return found


def collect(dest: Path, *, bundled_names: Iterable[str], binary_sources: Iterable[str],
            site_packages: Iterable[str], pyside_version: str = "") -> list[str]:
    """Write LICENSES/ into ``dest`` and return the lines of its index (THIRD_PARTY_NOTICES.txt)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    index = ["Licence notices for the software carried in this bundle.", ""]

    app_licence = HERE.parent / "LICENSE"
    if app_licence.is_file():
        shutil.copy2(app_licence, dest / "pneumo_desktop-LICENSE.txt")
    index.append("pneumo_desktop: MIT" + (" (pneumo_desktop-LICENSE.txt)" if app_licence.is_file() else ""))

    python_licence = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" \
        / "LICENSE.txt"
    if python_licence.is_file():
        (dest / "python").mkdir()
        shutil.copy2(python_licence, dest / "python" / "LICENSE.txt")
    index.append(f"Python {sys.version.split()[0]}: PSF-2.0 (python/LICENSE.txt)")

    try:
        pyinstaller = md.distribution("pyinstaller")
    except md.PackageNotFoundError:
        pyinstaller = None
    if pyinstaller is not None:
        (dest / "pyinstaller-bootloader").mkdir()
        for source, rel in licence_files(pyinstaller):
            shutil.copy2(source, dest / "pyinstaller-bootloader" / Path(rel).name)
        index.append(f"PyInstaller {pyinstaller.version} bootloader: GPL-2.0-or-later with the bootloader "
                     "exception, which allows distributing it with any program (pyinstaller-bootloader/)")

    for dist in bundled_distributions(top_level_names(bundled_names)):
        name = dist.metadata["Name"]
        folder = dest / f"{_norm(name)}-{dist.version}"
        folder.mkdir()
        files = licence_files(dist)
        for source, rel in files:
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        licence = licence_name(dist)
        missing = MISSING_TEXTS.get(_norm(name))
        if missing:
            licence = missing[0]
            for text in missing[1]:
                shutil.copy2(HERE / "licenses" / text, folder / text)
            # PyInstaller's Tree drops an empty folder: a wheel without any notice still gets its folder.
            (folder / "LICENCE-NOTE.txt").write_text(f"{name} {dist.version}: {licence}\n", encoding="utf-8")
        index.append(f"{name} {dist.version}: {licence[:200]} ({folder.name}/)")

    qt = dest / "pyside6-essentials"
    qt_dirs = [p for p in dest.iterdir() if p.name.startswith("pyside6-essentials-")]
    if qt_dirs:
        qt = qt_dirs[0]
        (qt / "README-Qt.txt").write_text(QT_NOTE.format(pyside=pyside_version), encoding="utf-8")

    vendored = vendored_notices(binary_sources)
    for folder_name, (what, text, wheel_libs) in sorted(vendored.items()):
        (dest / folder_name).mkdir()
        shutil.copy2(HERE / "licenses" / text, dest / folder_name / text)
        index.append(f"{what}, vendored in {', '.join(sorted(wheel_libs))} ({folder_name}/)")

    # Shared libraries copied from the build machine's system (not from a wheel or the interpreter).
    prefixes = tuple(str(Path(p).resolve()) for p in site_packages) + (str(Path(sys.base_prefix).resolve()),)
    system: dict[str, Path] = {}
    for source in binary_sources:
        path = Path(source)
        if not path.is_absolute() or str(path.resolve()).startswith(prefixes):
            continue
        found = _debian_copyright(path)
        if found:
            system.setdefault(found[0], found[1])
    if system:
        (dest / "system").mkdir()
        for package, copyright_file in sorted(system.items()):
            shutil.copy2(copyright_file, dest / "system" / f"{package}.copyright")
        index.append("")
        index.append("System libraries copied from the build machine (Debian packages; their copyright files "
                     "are in system/): " + ", ".join(sorted(system)))
    (dest / "THIRD_PARTY_NOTICES.txt").write_text("\n".join(index) + "\n", encoding="utf-8")
    return index
