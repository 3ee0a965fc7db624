"""The one entry point that turns a file into a LoadedImage: read once, sniff the format, dispatch.

The format comes from the file's bytes, never its name (a JPEG called ``.png`` still loads; a text file
called ``.dcm`` is refused). The file is read into memory once, so the hash always describes the bytes
that were decoded.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.hashing import sha256_bytes
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.library_warnings import library_warnings_logged
from pneumo_desktop.core.raster_reader import read_raster
from pneumo_desktop.core.regular_file import (
    FileTooLargeError,
    NotRegularFileError,
    read_capped,
    read_head,
)

log = logging.getLogger(__name__)

# Whole files are read into memory; anything this big is not a single radiograph.
MAX_FILE_BYTES = 1 << 30
_DICOM_MAGIC_OFFSET = 128
# Bytes in one path component on every common Linux and macOS file system.
_NAME_MAX = 255
_SNIFF_BYTES = 4096  # enough for every magic number below
_RASTER_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),  # BigTIFF, which Pillow reads
    (b"MM\x00+", "TIFF"),
    (b"BM", "BMP"),
)
# A bare data set (ACR-NEMA style, no preamble) starts with a little-endian group 0002/0008 tag.
_BARE_DICOM_GROUPS = (b"\x02\x00", b"\x08\x00")


@dataclass(frozen=True)
class Format:
    kind: str  # "dicom" or "raster"
    detail: str  # "DICM", "bare" or the raster format name


def load_image(path: str | Path, *, draft_size: int | None = None) -> LoadedImage:
    """Load a radiograph for display and the model.

    ``draft_size`` (pixels) lets JPEG decoding skip detail the model cannot use: the decoded image keeps a
    short side of at least ``2 * draft_size``. Leave it ``None`` for display (full resolution).
    Raises ImageLoadError, whose message is written for a clinician, for every unusable file.
    """
    path = Path(path)
    data = _read_bytes(path)
    fmt = sniff(data, path.name)
    if fmt is None:
        raise ImageLoadError(
            "not an image or DICOM file (readable formats: PNG, JPEG, BMP, TIFF, DICOM)", path.name
        )
    digest = sha256_bytes(data)
    raster = _raster_format(data)
    if fmt.kind == "dicom" and raster is not None and raster.detail != "TIFF":
        return _dicom_or_raster(data, path, digest, fmt, raster, draft_size)
    image = _READERS[fmt.kind](data, path, digest, fmt, draft_size)
    log.debug("%s: loaded %s %s %dx%d", path.name, fmt.kind, fmt.detail, image.shape[1], image.shape[0])
    return image


def may_decode_smaller(path: str | Path) -> bool:
    """Whether ``load_image(path, draft_size=...)`` can give other pixels than ``load_image(path)``: only
    JPEGs are DCT-scaled. Reads the first bytes only; a file that cannot be read counts as "may"."""
    path = Path(path)
    try:
        head = read_head(path, _SNIFF_BYTES)
    except OSError:
        return True
    fmt = _raster_format(head)  # also for a JPEG that carries "DICM" at byte 128 (see _dicom_or_raster)
    return fmt is not None and fmt.detail == "JPEG"


def _dicom_or_raster(data: bytes, path: Path, digest: str, fmt: Format, raster: Format,
                     draft_size: int | None) -> LoadedImage:
    """Both signatures: a PNG, JPEG or BMP may hold "DICM" at byte 128 by chance. Whichever decodes wins; when
    neither does, the DICOM reason is given, as DICM is the stronger claim. (A TIFF header in the preamble is
    a DICOM-TIFF dual file by design: it stays DICOM only, so a refused colour DICOM is not read as TIFF.)"""
    try:
        return _read_dicom(data, path, digest, fmt, draft_size)
    except ImageLoadError as dicom_error:
        try:
            return _read_raster(data, path, digest, raster, draft_size)
        except ImageLoadError:
            raise dicom_error from None


def _raster_format(data: bytes) -> Format | None:
    for magic, raster in _RASTER_MAGIC:
        if data.startswith(magic):
            return Format("raster", raster)
    return None


def sniff(data: bytes, name: str = "") -> Format | None:
    """The file's format from its first bytes, or None when it is neither a raster image nor DICOM."""
    if data[_DICOM_MAGIC_OFFSET:_DICOM_MAGIC_OFFSET + 4] == b"DICM":
        return Format("dicom", "DICM")
    raster = _raster_format(data)
    if raster is not None:
        return raster
    if _looks_like_bare_dicom(data, name):
        return Format("dicom", "bare")
    return None


def _looks_like_bare_dicom(data: bytes, name: str) -> bool:
    if len(data) < 8 or data[:2] not in _BARE_DICOM_GROUPS:
        return False
    # Either an explicit VR (two capital letters) or an implicit 4-byte length that fits in the file.
    vr = data[4:6]
    if vr.isalpha() and vr.isupper():
        return True
    length = int.from_bytes(data[4:8], "little")
    return length < len(data) or name.lower().endswith((".dcm", ".dicom"))


def _read_bytes(path: Path) -> bytes:
    name = path.name
    try:
        data = read_capped(path, MAX_FILE_BYTES)
    except NotRegularFileError as exc:
        if exc.kind == "a folder":
            raise ImageLoadError("this is a folder, not an image file", name) from exc
        raise ImageLoadError(f"this is {exc.kind}, not an image file (only regular files are read)", name) from exc
    except FileTooLargeError as exc:
        raise ImageLoadError(f"file too large ({exc.size / 2**30:.1f} GB) to be a single radiograph", name) from exc
    except FileNotFoundError as exc:
        raise ImageLoadError("file not found", name) from exc
    except PermissionError as exc:
        raise ImageLoadError("cannot read file: permission denied", name) from exc
    except OSError as exc:
        raise _os_error(exc, path) from exc
    if not data:
        raise ImageLoadError("empty file (0 bytes)", name)
    return data


def _os_error(exc: OSError, path: Path) -> ImageLoadError:
    """Never quotes the path itself: it may be thousands of bytes long."""
    name = path.name
    if exc.errno == errno.ENAMETOOLONG:
        raw = os.fsencode(path)
        longest = max((len(part) for part in raw.split(os.fsencode(os.sep))), default=0)
        if longest > _NAME_MAX:
            return ImageLoadError(f"cannot read file: its name is too long ({longest} bytes; the limit is "
                                  f"{_NAME_MAX})", name)
        return ImageLoadError(f"cannot read file: its path is too long ({len(raw)} bytes)", name)
    return ImageLoadError(f"cannot read file: {exc.strerror or 'input/output error'}", name)


def _read_dicom(data: bytes, path: Path, digest: str, fmt: Format, draft_size: int | None) -> LoadedImage:
    # pydicom and its codecs load on the first DICOM: a folder of JPEGs never pays the ~0.25 s.
    from pneumo_desktop.core.dicom_reader import read_dicom

    # pydicom may warn anywhere from parsing to decoding, so a DICOM read holds the capture throughout.
    with library_warnings_logged(path.name):
        return read_dicom(data, path, digest, has_magic=fmt.detail == "DICM")


def _read_raster(data: bytes, path: Path, digest: str, fmt: Format, draft_size: int | None) -> LoadedImage:
    return read_raster(data, path, digest, fmt.detail, draft_size=draft_size)


_READERS: dict[str, Callable[[bytes, Path, str, Format, int | None], LoadedImage]] = {
    "dicom": _read_dicom,
    "raster": _read_raster,
}

