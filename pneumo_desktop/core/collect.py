"""Turning the paths a user gave (files and folders) into the list of image files to read.

Shared by the CLI and the GUI's folder/batch mode so that both take exactly the same files.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pneumo_desktop.core.regular_file import read_head, special_kind

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm"})
DICOM_MAGIC = b"DICM"
DICOM_MAGIC_OFFSET = 128


@dataclass
class Collected:
    files: list[Path] = field(default_factory=list)  # as given, or given folder / walked relative path
    skipped: int = 0  # entries in walked folders that are not image files (hidden, DICOMDIR, other)
    missing: list[Path] = field(default_factory=list)  # given paths that do not exist
    folders: list[Path] = field(default_factory=list)  # given paths that are folders
    # Entries in walked folders that are FIFOs, devices or sockets, with what each is: skipped, but named.
    special: list[tuple[Path, str]] = field(default_factory=list)


def has_dicom_magic(path: Path) -> bool:
    try:
        return read_head(path, DICOM_MAGIC_OFFSET + len(DICOM_MAGIC))[DICOM_MAGIC_OFFSET:] == DICOM_MAGIC
    except OSError:
        return False


def _looks_extensionless(name: str) -> bool:
    # DICOM files are often named by UID ("1.2.840.113619.2.55.3.123"), so a purely numeric
    # "suffix" counts as no extension.
    suffix = Path(name).suffix
    return suffix == "" or suffix[1:].isdigit()


def is_image_file(path: Path) -> bool:
    """Whether a file found while walking a folder is one to read (not used for files named explicitly)."""
    name = path.name
    if name.startswith(".") or name.upper() == "DICOMDIR":
        return False
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return True
    return _looks_extensionless(name) and has_dicom_magic(path)


def _walk(folder: Path, out: Collected, seen: set[tuple[int, int]], should_stop: Callable[[], bool]) -> None:
    try:
        info = folder.stat()
    except OSError:
        out.skipped += 1
        return
    key = (info.st_dev, info.st_ino)
    if key in seen:
        # A symlink back to a folder already walked: following it would loop forever or read twice.
        return
    seen.add(key)
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        out.skipped += 1
        return
    for entry in entries:
        if should_stop():
            return
        path = folder / entry.name
        if entry.name.startswith("."):
            out.skipped += 1
            continue
        try:
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError:
            is_dir = is_file = False
        if is_dir:
            _walk(path, out, seen, should_stop)
        elif is_file and is_image_file(path):
            out.files.append(path)
        elif not is_file and (kind := _special_kind(entry)) is not None:
            out.special.append((path, kind))
        else:
            out.skipped += 1


def _special_kind(entry: os.DirEntry[str]) -> str | None:
    try:
        return special_kind(entry.stat().st_mode)
    except OSError:  # a dangling or looping symlink: not special, just not a file
        return None


def collect_inputs(paths: Iterable[str | os.PathLike[str]], *,
                   should_stop: Callable[[], bool] = lambda: False) -> Collected:
    """Files named explicitly are always taken (the loader explains what is wrong with them); folders
    are walked recursively in sorted order and only image files are taken from them."""
    out = Collected()
    seen: set[tuple[int, int]] = set()
    taken: set[Path] = set()
    for given in paths:
        path = Path(given)
        try:
            is_dir = stat.S_ISDIR(os.stat(path).st_mode)
            exists = True
        except FileNotFoundError:
            is_dir, exists = False, os.path.islink(path)  # a dangling link is taken: the loader says so
        except OSError:
            # A name too long, a symlink loop, a folder we may not enter: taken as a file so that the loader
            # gives it a record with the reason, instead of the walk failing.
            is_dir, exists = False, True
        if is_dir:
            out.folders.append(path)
            before = len(out.files)
            _walk(path, out, seen, should_stop)
            new = out.files[before:]
            # The same file reached through two given folders is read once.
            out.files[before:] = [p for p in new if _once(p, taken)]
        elif exists:
            if _once(path, taken):
                out.files.append(path)
        else:
            out.missing.append(path)
        if should_stop():
            break
    return out


def _once(path: Path, taken: set[Path]) -> bool:
    try:
        key = path.resolve()
    except (OSError, RuntimeError):
        key = path.absolute()
    if key in taken:
        return False
    taken.add(key)
    return True


def input_folders(collected: Collected) -> set[Path]:
    """Every folder the inputs live in: nothing may be written into these."""
    folders = {_resolved(p) for p in collected.folders}
    folders |= {_resolved(p.parent) for p in collected.files}
    return folders


def is_inside(path: Path, folders: Iterable[Path]) -> bool:
    target = _resolved(path)
    return any(target == f or f in target.parents for f in folders)


def _resolved(path: Path) -> Path:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(path).absolute()


def overwrites_input(target: Path, inputs: Iterable[Path]) -> bool:
    """Whether writing ``target`` would replace one of ``inputs``: the same resolved path, or the same file
    under another name (a hard link, a symlink, a bind mount), compared by device and inode."""
    resolved = _resolved(target)
    try:
        st = os.stat(target)
        identity: tuple[int, int] | None = (st.st_dev, st.st_ino)
    except OSError:
        identity = None
    for path in inputs:
        if _resolved(path) == resolved:
            return True
        if identity is not None:
            try:
                other = os.stat(path)
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == identity:
                return True
    return False
