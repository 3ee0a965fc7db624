"""PNG, JPEG, BMP and TIFF files through Pillow, turned into [0, 1] grayscale.

The Pillow plugin class for the sniffed format is built directly instead of ``Image.open``: that parses
only the header, and our own pixel limit replaces Pillow's decompression-bomb check, so no Pillow
warning or error about image size ever reaches the user, and the refusal can name the size.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import BmpImagePlugin, Image, ImageFile, ImageOps, JpegImagePlugin, PngImagePlugin, TiffImagePlugin

from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.image import LoadedImage, check_pixel_count
from pneumo_desktop.core.library_warnings import library_warnings_logged

log = logging.getLogger(__name__)

_OPENERS: dict[str, Callable[[io.BytesIO], Image.Image]] = {
    "PNG": PngImagePlugin.PngImageFile,
    "JPEG": JpegImagePlugin.JpegImageFile,
    "BMP": BmpImagePlugin.BmpImageFile,
    "TIFF": TiffImagePlugin.TiffImageFile,
}
FORMATS = tuple(_OPENERS)
_COLOUR_THUMBNAIL = 128
_ALPHA_MODES = {"LA", "La", "PA", "RGBA", "RGBa"}
_WIDE_INTEGER_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I"}
_COLOUR_MODES = {"P", "PA", "RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr"}
_SUPPORTED_MODES = _WIDE_INTEGER_MODES | _COLOUR_MODES | {"1", "L", "LA", "La", "F"}
_EXIF_ORIENTATION = 0x0112
_FLOAT32_SAFE_SPAN = 1e37


def read_raster(
    data: bytes, path: Path, sha256: str, fmt: str, *, draft_size: int | None = None
) -> LoadedImage:
    """Decode ``data`` (already sniffed as ``fmt``, one of FORMATS) into a LoadedImage."""
    name = path.name
    # Pillow warns (to stderr) about damaged TIFF tags and EXIF blocks while parsing headers; those steps
    # are cheap, so only they (and TIFF decoding, below) take the warnings lock, never JPEG/PNG decoding.
    with library_warnings_logged(name):
        img = _open(data, fmt, name)
    check_pixel_count(img.width, img.height, name)
    source_mode, source_size = img.mode, img.size
    if source_mode not in _SUPPORTED_MODES:
        raise ImageLoadError(f"the image's pixel format ({source_mode}) is not supported", name)
    notes: list[str] = []
    with library_warnings_logged(name):  # counting TIFF pages parses their EXIF too
        pages = _page_count(img, name)
    if pages > 1:
        notes.append(f"the file holds {pages} images; only the first is shown and analysed")
    if draft_size and fmt == "JPEG":
        # The DCT scaling keeps the short side >= 2 * draft_size, so the model input (a few hundred pixels)
        # is unchanged in practice while decoding is up to 8x faster. The colour mode is kept for the
        # colourfulness check.
        img.draft(img.mode, (2 * draft_size, 2 * draft_size))
    # Pillow's TIFF decoding ends by parsing EXIF again (and warning about it); TIFF radiographs are rare,
    # so serialising their decoding costs little.
    with library_warnings_logged(name) if fmt == "TIFF" else contextlib.nullcontext():
        _load(img, fmt, name, len(data))
    with library_warnings_logged(name):
        img, swapped = _oriented(img, name)
    metadata: dict[str, Any] = {"format": fmt, "source_mode": source_mode}
    pixels = _to_gray(img, metadata, notes, name)
    # Full-resolution size in display orientation (EXIF 5-8 swap the axes).
    width, height = source_size[::-1] if swapped else source_size
    metadata["rows"], metadata["columns"] = height, width
    if pixels.shape != (height, width):
        metadata["decoded_size"] = (int(pixels.shape[1]), int(pixels.shape[0]))
    return LoadedImage(pixels=pixels, path=path, kind="raster", file_sha256=sha256, metadata=metadata,
                       warnings=notes)


def _page_count(img: Image.Image, name: str) -> int:
    # Counting TIFF pages parses every directory; a damaged later one must not cost the first image.
    try:
        count = int(getattr(img, "n_frames", 1) or 1)
    except Exception as exc:  # library boundary: Pillow raises TypeError/ValueError/OSError on bad IFDs
        log.info("%s: later pages unreadable, only the first is used: %s", name, exc)
        count = 1
    with contextlib.suppress(Exception):  # n_frames may have left the file on another page
        img.seek(0)
    return count


def colourfulness(rgb: Image.Image) -> float:
    """Mean chroma (max - min channel) / 255 on a small thumbnail: 0 for gray, ~0.3+ for photos."""
    thumb = rgb.convert("RGB")
    thumb.thumbnail((_COLOUR_THUMBNAIL, _COLOUR_THUMBNAIL))
    arr = np.asarray(thumb, dtype=np.int16)
    return float(np.mean(arr.max(axis=2) - arr.min(axis=2)) / 255.0)


def _open(data: bytes, fmt: str, name: str) -> Image.Image:
    try:
        return _OPENERS[fmt](io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # not expected (we bypass Image.open), but never leak it
        raise ImageLoadError("image too large", name) from exc
    except Exception as exc:  # library boundary: Pillow raises SyntaxError/OSError/ValueError on bad headers
        log.info("%s: %s header unreadable: %s", name, fmt, exc)
        variant = _tiff_variant(data) if fmt == "TIFF" else None
        if variant is not None:
            raise ImageLoadError(f"TIFF images of {variant} are not supported", name) from exc
        raise ImageLoadError(f"the {fmt} file is damaged: its header could not be read", name) from exc


# (sample format, bits per sample) pairs that Pillow's TIFF reader has a mode for.
_PILLOW_TIFF_LAYOUTS = frozenset(
    (key[2][0] if key[2] else 1, key[4][0] if key[4] else 1) for key in TiffImagePlugin.OPEN_INFO)
_TIFF_SAMPLE_FORMATS = {1: "unsigned integers", 2: "signed integers", 3: "floating-point numbers",
                        5: "complex integers", 6: "complex floating-point numbers"}


def _tiff_variant(data: bytes) -> str | None:
    """A readable first IFD whose pixel layout Pillow does not handle, in words ("64-bit floating-point
    numbers", "3 samples per pixel of 16-bit unsigned integers"); None when the header itself is damaged."""
    try:
        header = data[:16] if data[2:4] in (b"+\x00", b"\x00+") else data[:8]
        ifd = TiffImagePlugin.ImageFileDirectory_v2(header)
        stream = io.BytesIO(data)
        stream.seek(ifd.next)
        ifd.load(stream)
        bits = tuple(int(b) for b in ifd.get(258, (1,)))
        sample = ifd.get(339, (1,))
        sample_format = int(sample[0] if isinstance(sample, tuple) else sample)
        samples = int(ifd.get(277, 1))
    except Exception:  # library boundary: a damaged directory is just "damaged"
        return None
    if (sample_format, bits[0]) in _PILLOW_TIFF_LAYOUTS:
        return None  # a layout Pillow reads: the failure was damage, not the variant
    kind = f"{bits[0]}-bit {_TIFF_SAMPLE_FORMATS.get(sample_format, f'sample format {sample_format}')}"
    return kind if samples == 1 else f"{samples} samples per pixel of {kind}"


def _load(img: Image.Image, fmt: str, name: str, size: int) -> None:
    # The whole file in one decoder call: Pillow feeds it 64 KB at a time by default and takes the GIL back
    # between blocks, and beside a busy Python thread (the window's other worker) each hand-back waited for
    # that thread's switch interval. Measured: twelve 2k JPEGs decoded 2.6x slower beside a Python loop with
    # 64 KB blocks, 1.6x with whole-file blocks (docs/performance.md).
    if isinstance(img, ImageFile.ImageFile):
        img.decodermaxblock = max(size, ImageFile.MAXBLOCK)
    try:
        img.load()
    except OSError as exc:
        log.info("%s: %s decode failed: %s", name, fmt, exc)
        if "truncated" in str(exc).lower():
            message = f"truncated {fmt}: the file ends before the image is complete"
            raise ImageLoadError(message, name) from exc
        raise ImageLoadError(f"the {fmt} image data is damaged and could not be decoded", name) from exc
    except Exception as exc:  # library boundary: SyntaxError, ValueError, zlib/struct errors on damaged data
        log.info("%s: %s decode failed: %s", name, fmt, exc)
        raise ImageLoadError(f"the {fmt} image data is damaged and could not be decoded", name) from exc


def _oriented(img: Image.Image, name: str) -> tuple[Image.Image, bool]:
    """Apply the EXIF orientation; also say whether it swapped width and height."""
    try:
        orientation = int(img.getexif().get(_EXIF_ORIENTATION, 1))
        if orientation not in range(2, 9):
            return img, False  # exif_transpose would return a copy (a wasted 4 MB for a 2k film)
        return ImageOps.exif_transpose(img), orientation in (5, 6, 7, 8)
    except Exception as exc:  # library boundary: corrupt EXIF blocks; the pixels themselves are fine
        log.info("%s: EXIF orientation unreadable, ignored: %s", name, exc)
        return img, False


def _unit_float(img: Image.Image) -> np.ndarray:
    """8-bit image -> float32 in [0, 1], scaled in place: a second 16 MB array per 2k film costs more in
    page faults than the division itself."""
    pixels = np.asarray(img, dtype=np.float32)
    if not pixels.flags.writeable:
        pixels = pixels.copy()
    np.divide(pixels, 255.0, out=pixels)
    return pixels


def _array_releasing(img: Image.Image) -> np.ndarray:
    """The pixels as an array, with Pillow's own copy freed at once (200 MB for a 100-MP 16-bit PNG) rather
    than when the image object goes out of scope after the float conversion."""
    arr = np.asarray(img)
    img.close()
    return arr


def _to_gray(img: Image.Image, metadata: dict[str, Any], notes: list[str], name: str) -> np.ndarray:
    mode = img.mode
    if mode in _WIDE_INTEGER_MODES:
        return _scale_wide_integers(_array_releasing(img), notes)
    if mode == "F":
        return _scale_floats(_array_releasing(img), name)
    if mode == "1":
        return _unit_float(img.convert("L"))
    if mode == "L":
        return _unit_float(img)
    if mode in _ALPHA_MODES:
        notes.append("the image has a transparency channel; it was ignored")
    if mode in ("LA", "La"):
        return _unit_float(img.getchannel("L"))
    rgb = img.convert("RGBA" if mode == "PA" else "RGB").convert("RGB")
    metadata["colourfulness"] = round(colourfulness(rgb), 4)
    label = {"P": "palette", "PA": "palette"}.get(mode, mode)
    notes.append(
        f"the image is stored in colour ({label}) and was converted to grayscale "
        f"(colourfulness {metadata['colourfulness']:.2f})"
    )
    return _unit_float(rgb.convert("L"))


def _scale_wide_integers(arr: np.ndarray, notes: list[str]) -> np.ndarray:
    """16/32-bit integers: divide by the smallest bit depth (>= 8) that holds the brightest pixel.

    Many 16-bit exports carry 10-14 significant bits; dividing by 65535 would make them nearly black,
    while a per-image min/max stretch would discard the absolute exposure. Never clipped to 8 bits.
    """
    # float32 throughout (exact for integers below 2**24): int64 and float64 copies of a 100-MP 16-bit PNG
    # took 2.8 GB where the pixels themselves are 200 MB.
    low, high = int(arr.min()), int(arr.max())
    values = arr.astype(np.float32)
    if low < 0:
        notes.append("the image holds negative pixel values; they were shifted to start at black")
        values -= np.float32(low)
        high -= low
    depth = max(8, int(high).bit_length())
    values /= np.float32(2**depth - 1)
    return values


def _scale_floats(values: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(values).all():
        raise ImageLoadError("the image contains invalid (not-a-number) pixel values", name)
    low, high = float(values.min()), float(values.max())
    if low >= 0.0 and high <= 1.0:
        return values.astype(np.float32)
    span = high - low if high > low else 1.0
    if span > _FLOAT32_SAFE_SPAN:  # float32 extremes (-3e38..3e38) would overflow when subtracted
        return np.clip((values.astype(np.float64) - low) / span, 0.0, 1.0).astype(np.float32)
    out = values.astype(np.float32)
    out -= np.float32(low)
    out /= np.float32(span)
    return np.clip(out, 0.0, 1.0, out=out)
