"""Opening input files safely: regular files only, read with a hard byte cap.

A FIFO blocks ``open()`` until a writer appears (forever, for a user who named one by mistake), and a
character device such as ``/dev/zero`` reports size 0 but never ends. So the path is ``stat``-ed first
(following symlinks: ``zero.dcm -> /dev/zero`` is a device), opened without blocking and without becoming a
controlling terminal, checked again on the open descriptor (the path may have been swapped in between), and
read with a cap that does not trust the reported size.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
_SPECIAL_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotRegularFileError(OSError):
    """The path names something other than a regular file; ``kind`` says what, for a message."""

    def __init__(self, kind: str, filename: str) -> None:
        super().__init__(errno.EINVAL, f"{kind}, not a regular file", filename)
        self.kind = kind


class FileTooLargeError(OSError):
    """The file holds more than the cap allowed; ``size`` is what was seen (at least cap + 1 bytes)."""

    def __init__(self, size: int, filename: str) -> None:
        super().__init__(errno.EFBIG, "file too large", filename)
        self.size = size


def special_kind(mode: int) -> str | None:
    """What a non-regular file is ("a named pipe (FIFO)"...), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in _SPECIAL_KINDS:
        if test(mode):
            return kind
    return "a special file"


def _require_regular(mode: int, path: str | os.PathLike[str]) -> None:
    kind = special_kind(mode)
    if kind is not None:
        raise NotRegularFileError(kind, os.fspath(path))


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for binary reading; NotRegularFileError (an OSError) for anything else."""
    _require_regular(os.stat(path).st_mode, path)
    fd = os.open(path, _OPEN_FLAGS)
    try:
        _require_regular(os.fstat(fd).st_mode, path)
        if getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_capped(path: str | os.PathLike[str], cap: int) -> bytes:
    """The whole regular file, or FileTooLargeError as soon as it is seen to hold more than ``cap`` bytes.

    The reported size refuses a big file without reading it; the read itself stops at ``cap + 1`` bytes
    whatever the size said (a file that grows while read, a file system that reports 0).
    """
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > cap:
            raise FileTooLargeError(size, os.fspath(path))
        # read(n) allocates n bytes up front, so ask for the reported size (plus one byte, to see growth)
        # and go on in chunks only if the file is bigger than it said.
        want = size + 1
        data = fh.read(want)
        if len(data) == want:
            parts, total = [data], len(data)
            while total <= cap:
                chunk = fh.read(min(1 << 20, cap + 1 - total))
                if not chunk:
                    break
                parts.append(chunk)
                total += len(chunk)
            data = b"".join(parts)
    if len(data) > cap:
        raise FileTooLargeError(len(data), os.fspath(path))
    return data


def read_head(path: str | os.PathLike[str], count: int) -> bytes:
    """The first ``count`` bytes of a regular file."""
    with open_regular(path) as fh:
        return fh.read(count)

