"""Turning the paths a user gave (files and folders) into the list of image files to read.

Shared by the CLI and the GUI's folder/batch mode so that both take exactly the same files.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pneumo_desktop.core.regular_file import NotRegularFileError, read_head, special_kind

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm"})
DICOM_MAGIC = b"DICM"
DICOM_MAGIC_OFFSET = 128
# The first bytes of an extensionless file: the DICM magic, and the file meta's SOP class, which names a
# DICOMDIR (Media Storage Directory Storage) in its first few hundred bytes.
_HEAD_BYTES = 1024
_MEDIA_DIRECTORY = b"\x02\x00\x02\x00UI\x14\x001.2.840.10008.1.3.10"  # (0002,0002) UI, 20 bytes


@dataclass
class Collected:
    files: list[Path] = field(default_factory=list)  # as given, or given folder / walked relative path
    skipped: int = 0  # entries in walked folders that are not image files (hidden, DICOMDIR, other)
    missing: list[Path] = field(default_factory=list)  # given paths that do not exist
    folders: list[Path] = field(default_factory=list)  # given paths that are folders
    # Entries in walked folders that are FIFOs, devices or sockets, with what each is: skipped, but named.
    special: list[tuple[Path, str]] = field(default_factory=list)
    # Folders (or entries) in walked folders that could not be read, with why: films in them were not reached.
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    # Links in walked folders that were not followed, with why: out of the opened folder, or to a folder
    # already walked (a loop or a second way to the same folder).
    not_followed: list[tuple[Path, str]] = field(default_factory=list)
    # DICOMDIR files named explicitly: their folder was walked instead (a DICOMDIR holds no image).
    dicomdirs: list[Path] = field(default_factory=list)


LINK_OUT = "a link that leads out of the opened folder"
LINK_SEEN = "a link to a folder already walked (a loop, or a second way to the same folder)"


def _looks_extensionless(name: str) -> bool:
    # DICOM files are often named by UID ("1.2.840.113619.2.55.3.123"), so a purely numeric
    # "suffix" counts as no extension.
    suffix = Path(name).suffix
    return suffix == "" or suffix[1:].isdigit()


def is_image_file(path: Path) -> bool:
    """Whether a file found while walking a folder is one to read (not used for files named explicitly)."""
    if path.name.startswith("."):
        return False
    found = Collected()
    _take_file(path, found)
    return bool(found.files)


def _walk(folder: Path, out: Collected, seen: set[tuple[int, int]], should_stop: Callable[[], bool]) -> None:
    """Walk ``folder`` in sorted order, depth first, with a stack of its own (a tree 1,100 folders deep ended
    in a RecursionError). Links are followed only while they stay inside ``folder`` as resolved (a link to
    ``/`` scored thousands of files from elsewhere on the machine), and a folder is walked once (loops)."""
    try:
        root = Path(os.path.realpath(folder))
        info = os.stat(folder)
    except (OSError, RuntimeError, ValueError) as exc:
        out.unreadable.append((folder, _why(exc)))
        return
    if not _first_visit(info, seen):
        return
    top = _listing(folder, out)
    if top is None:
        return
    stack: list[tuple[Path, Iterator[os.DirEntry[str]]]] = [(folder, top)]
    while stack:
        if should_stop():
            return
        parent, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        path = parent / entry.name
        if entry.name.startswith("."):
            out.skipped += 1
            continue
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError as exc:
            out.unreadable.append((path, _why(exc)))
            continue
        if is_link and (is_dir or is_file) and not _inside(path, root):
            out.not_followed.append((path, LINK_OUT))
            continue
        if is_dir:
            try:
                info = entry.stat()
            except OSError as exc:
                out.unreadable.append((path, _why(exc)))
                continue
            if not _first_visit(info, seen):
                if is_link:
                    out.not_followed.append((path, LINK_SEEN))
                continue
            listing = _listing(path, out)
            if listing is not None:
                stack.append((path, listing))
        elif is_file:
            _take_file(path, out)
        elif (kind := _special_kind(entry)) is not None:
            out.special.append((path, kind))
        else:
            out.skipped += 1  # a dangling link


def _take_file(path: Path, out: Collected) -> None:
    name = path.name
    if name.upper() == "DICOMDIR" or (path.suffix.lower() not in IMAGE_EXTENSIONS and not _looks_extensionless(name)):
        out.skipped += 1
        return
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        out.files.append(path)
        return
    try:
        head = read_head(path, _HEAD_BYTES)
    except OSError as exc:
        if isinstance(exc, NotRegularFileError):
            out.special.append((path, exc.kind))
        else:
            out.unreadable.append((path, _why(exc)))
        return
    if head[DICOM_MAGIC_OFFSET:DICOM_MAGIC_OFFSET + len(DICOM_MAGIC)] != DICOM_MAGIC or _MEDIA_DIRECTORY in head:
        out.skipped += 1  # not DICOM, or a DICOMDIR under another name: an index, not a film
        return
    out.files.append(path)


def _listing(folder: Path, out: Collected) -> Iterator[os.DirEntry[str]] | None:
    try:
        with os.scandir(folder) as it:
            return iter(sorted(it, key=lambda e: e.name))
    except OSError as exc:
        out.unreadable.append((folder, _why(exc)))
        return None


def _first_visit(info: os.stat_result, seen: set[tuple[int, int]]) -> bool:
    key = (info.st_dev, info.st_ino)
    if key in seen:
        return False
    seen.add(key)
    return True


def _inside(path: Path, root: Path) -> bool:
    try:
        target = Path(os.path.realpath(path))
    except (OSError, RuntimeError, ValueError):
        return False
    return target == root or root in target.parents


def _why(exc: BaseException) -> str:
    """The reason in words, never the path (it may be thousands of bytes, and names patients)."""
    if isinstance(exc, OSError):
        if exc.errno == errno.ENAMETOOLONG:
            return "its path is too long"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "permission denied"
        if exc.errno == errno.ELOOP:
            return "too many levels of symbolic links"
        return exc.strerror or "input/output error"
    return type(exc).__name__


def _special_kind(entry: os.DirEntry[str]) -> str | None:
    try:
        return special_kind(entry.stat().st_mode)
    except OSError:  # a dangling or looping symlink: not special, just not a file
        return None


def collect_inputs(paths: Iterable[str | os.PathLike[str]], *,
                   should_stop: Callable[[], bool] = lambda: False) -> Collected:
    """Files named explicitly are always taken (the loader explains what is wrong with them), except a
    DICOMDIR, whose folder is walked instead; folders are walked in sorted order, depth first, and only image
    files are taken from them (see _walk for links)."""
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
        if not is_dir and exists and path.name.upper() == "DICOMDIR":
            # A DICOMDIR lists the films of its File-set, which live under its folder: read them as the folder.
            out.dicomdirs.append(path)
            path, is_dir = path.parent, True
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
