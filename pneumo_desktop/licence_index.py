"""What the app carries and under which licence: one source for the About box and the bundle's licence index.

The Python distributions are the app's own runtime requirements, followed transitively through their metadata
(not a hand-kept list: the About box of 0.2 named PyTorch, which is not shipped, and omitted ONNX Runtime,
pynetdicom and highdicom, which are). Inside a PyInstaller bundle the index that the build wrote from what it
actually carried (``LICENSES/THIRD_PARTY_NOTICES.txt``) is read instead. Standard library only: the installer
imports it in PyInstaller's interpreter.
"""

from __future__ import annotations

import importlib.metadata as md
import re
import sys
from pathlib import Path

APP_DISTRIBUTION = "pneumo-desktop"
INDEX_NAME = "THIRD_PARTY_NOTICES.txt"
# Carried files that are not Python distributions: fonts and data inside resources/, and the training data.
RESOURCES = (
    ("DejaVu Sans fonts (reports)", "Bitstream Vera licence; DejaVu changes public domain"),
    ("Droid Sans Fallback font (reports)", "Apache-2.0"),
    ("NanumSquare font (reports)", "SIL OFL 1.1"),
    ("Colour map viridis", "CC0 (van der Walt, Smith, Firing)"),
    ("Training images: Kermany et al. 2018", "CC BY 4.0"),
)
# Where the declared licence is a choice, the one the app uses it under.
USED_UNDER = {
    "pyside6-essentials": "LGPL-3.0-only (Qt and PySide6, dynamically linked: you may replace them)",
    "shiboken6": "LGPL-3.0-only (dynamically linked: you may replace it)",
}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def licence_name(dist: md.Distribution) -> str:
    """The licence a distribution declares: its SPDX expression, else the License field's first line, else
    its classifiers."""
    meta = dist.metadata
    if norm(meta["Name"]) in USED_UNDER:
        return USED_UNDER[norm(meta["Name"])]
    if meta.get("License-Expression"):
        return " ".join(meta["License-Expression"].split())
    text = meta.get("License") or ""
    # Some wheels put the whole licence text in License; the first line is then the name or the title.
    if text.strip() and len(text.strip().splitlines()[0]) <= 80:
        return text.strip().splitlines()[0]
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return ", ".join(classifiers) or "see the files"


def _runtime_requirements(dist: md.Distribution) -> list[str]:
    names = []
    for requirement in dist.requires or []:
        # Extras (train, dev) and other platforms' requirements are not carried.
        marker = requirement.split(";", 1)[1] if ";" in requirement else ""
        if "extra" in marker or ("sys_platform" in marker and sys.platform not in marker):
            continue
        match = _NAME.match(requirement)
        if match:
            names.append(match.group(1))
    return names


def runtime_distributions(root: str = APP_DISTRIBUTION) -> list[md.Distribution]:
    """``root``'s runtime requirements and theirs, each once, sorted by name; ``root`` itself excluded."""
    seen: dict[str, md.Distribution] = {}
    try:
        pending = _runtime_requirements(md.distribution(root))
    except md.PackageNotFoundError:
        return []
    while pending:
        name = pending.pop()
        if norm(name) in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen[norm(name)] = dist
        pending += _runtime_requirements(dist)
    return sorted(seen.values(), key=lambda d: norm(d.metadata["Name"]))


def bundle_index() -> list[str] | None:
    """The lines of the bundle's own licence index, when running from a bundle that has one."""
    root = getattr(sys, "_MEIPASS", None)
    index = Path(root) / "LICENSES" / INDEX_NAME if root else None
    if index is None or not index.is_file():
        return None
    return index.read_text(encoding="utf-8").splitlines()


def notices() -> list[tuple[str, str]]:
    """(what, licence) for the About box: the bundle's index when frozen, else the installed runtime closure."""
    lines = bundle_index()
    if lines is not None:
        pairs = [tuple(line.split(": ", 1)) for line in lines if ": " in line]
        return [(a, b) for a, b in pairs]  # type: ignore[misc]
    pairs = [("pneumo_desktop", "MIT"), (f"Python {sys.version.split()[0]}", "PSF-2.0")]
    pairs += [(f"{d.metadata['Name']} {d.version}", licence_name(d)) for d in runtime_distributions()]
    return pairs + list(RESOURCES)
