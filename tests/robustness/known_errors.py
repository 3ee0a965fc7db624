"""Every message the loader may give (ImageLoadError.reason), as patterns, and the outcome check that the
corpus, the fuzz test and the fuzz benchmark share.

The list is written from the ``ImageLoadError(...)`` calls in pneumo_desktop/core (loader.py,
raster_reader.py, dicom_reader.py, image.py); test_known_errors.py checks it still covers each of them.
A loader that wrapped every library exception in some generic "could not be read" message would fail the
outcome check, which is the point: a failure must be one the loader *meant*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.loader import load_image

_RASTER = r"(?:PNG|JPEG|BMP|TIFF)"
_INT = r"-?\d+"
# key -> pattern matched against the whole of ImageLoadError.reason
KNOWN_MESSAGES: dict[str, str] = {
    # loader.py: the file as a whole
    "not_an_image": r"not an image or DICOM file \(readable formats: PNG, JPEG, BMP, TIFF, DICOM\)",
    "folder": r"this is a folder, not an image file",
    "not_regular": r"this is [^\n]+, not an image file \(only regular files are read\)",
    "file_too_large": r"file too large \(\d+\.\d GB\) to be a single radiograph",
    "not_found": r"file not found",
    "permission_denied": r"cannot read file: permission denied",
    "name_too_long": r"cannot read file: its (?:name|path) is too long \(\d+ bytes(?:; the limit is \d+)?\)",
    "os_error": r"cannot read file: [^\n]+",
    "empty_file": r"empty file \(0 bytes\)",
    # image.py: sizes declared in headers (raster and DICOM)
    "empty_image": rf"the file declares an empty image \({_INT}×{_INT} pixels\)",
    "too_many_pixels": r"image too large: \d+×\d+ pixels \(the limit is \d+ megapixels\)",
    # raster_reader.py
    "raster_bomb": r"image too large",
    "raster_header": rf"the {_RASTER} file is damaged: its header could not be read",
    "raster_truncated": rf"truncated {_RASTER}: the file ends before the image is complete",
    "raster_data": rf"the {_RASTER} image data is damaged and could not be decoded",
    "raster_mode": r"the image's pixel format \([^)\n]+\) is not supported",
    "tiff_variant": r"TIFF images of [^\n]+ are not supported",
    "raster_not_finite": r"the image contains invalid \(not-a-number\) pixel values",
    # dicom_reader.py
    "dicom_header": r"the DICOM header is damaged and could not be read",
    "dicom_syntax": r"the DICOM file declares an unknown transfer syntax, so its pixel data cannot be read",
    "dicom_float": r"floating-point DICOM pixel data is not supported",
    "dicom_no_pixels": r"DICOM has no pixel data",
    "dicom_dicomdir": r"this is a DICOMDIR \(the index of a DICOM disc or folder\), not an image: open its folder "
                      r"to read the films it lists",
    "dicom_deep_sequences": r"the DICOM header nests sequences more than \d+ levels deep, which no image needs: "
                            r"the file is damaged",
    "dicom_inconsistent_samples": r"the DICOM header is inconsistent: it says [^\n]+ \(grayscale, one sample "
                                  r"per pixel\) but [^\n]+ samples per pixel, so the pixel data cannot be read",
    "dicom_no_size": r"the DICOM header does not state the image size \(Rows/Columns\)",
    "dicom_colour": r"colour DICOM images \(.*\) are not supported: a chest radiograph must be grayscale "
                    r"\(MONOCHROME1 or MONOCHROME2\)",
    "dicom_bits": rf"DICOM pixel data with (?:None|{_INT}) bits per pixel is not supported",
    "dicom_no_decoder": r"compressed DICOM pixel data could not be decoded \(.+\): no decoder is installed "
                        r"for this compression",
    "dicom_codec": r"compressed DICOM pixel data could not be decoded \([^\n]+\)",
    "dicom_damaged": r"the DICOM pixel data is incomplete or damaged",
    "dicom_shape": r"the DICOM pixel data has an unexpected shape \(\d+(?:, \d+)*,?\)",
    # dicom_bounds.py and dicom_modality.py: memory bounds and transforms
    "dicom_deflate_bomb": r"the deflated DICOM data set inflates to more than \d+ MB, more than any image "
                          r"within the size limit needs \(a decompression bomb\?\)",
    "dicom_deflate_damaged": r"the deflated DICOM data is damaged and could not be read",
    "dicom_codestream_size": r"the compressed image is \d+×\d+ pixels but the DICOM header says "
                             r"(?:None|\d+)×(?:None|\d+): the file is damaged",
    "dicom_modality_lut": r"the DICOM Modality LUT is damaged \([^\n]+\), so the pixel values cannot be interpreted",
    "dicom_rescale": r"the DICOM rescale \(slope [^,\n]+, intercept [^)\n]+\) takes the pixel values out of range",
    "dicom_negative_slope": r"the DICOM rescale slope is negative \([^)\n]+\): it would show the film as its own "
                            r"negative, so the file was not read",
    "dicom_zero_bytes": r"the DICOM data set is damaged: it holds only zero bytes where its data elements should "
                        r"be \(none in \d+ KB\)",
}
_COMPILED = {key: re.compile(pattern, re.DOTALL) for key, pattern in KNOWN_MESSAGES.items()}


def classify(reason: str) -> str | None:
    """The KNOWN_MESSAGES key whose pattern matches the whole reason, or None for an unknown message."""
    for key, pattern in _COMPILED.items():
        if pattern.fullmatch(reason):
            return key
    return None


def check_image(image: LoadedImage) -> None:
    """What every successful load must give: finite float32 in [0, 1], 2-D, at least 1x1."""
    pixels = image.pixels
    assert isinstance(pixels, np.ndarray), type(pixels)
    assert pixels.dtype == np.float32, pixels.dtype
    assert pixels.ndim == 2 and min(pixels.shape) >= 1, pixels.shape
    assert image.shape == pixels.shape
    assert np.isfinite(pixels).all(), "non-finite pixels"
    assert float(pixels.min()) >= 0.0 and float(pixels.max()) <= 1.0, (float(pixels.min()), float(pixels.max()))
    assert image.kind in ("raster", "dicom")
    assert all(isinstance(w, str) for w in image.warnings)
    assert len(image.file_sha256) == 64


@dataclass(frozen=True)
class Outcome:
    """``status`` is "ok", "known" (ImageLoadError with a known message) or "unknown" (anything else)."""

    status: str
    key: str  # "ok", a KNOWN_MESSAGES key, or the unexpected exception's type (and why)
    detail: str = ""


def load_outcome(path: Path, *, draft_size: int | None = None) -> Outcome:
    """Load ``path`` and sort the result into ok / known failure / unknown failure. Never raises."""
    try:
        image = load_image(path, draft_size=draft_size)
    except ImageLoadError as exc:
        key = classify(exc.reason)
        if key is None:
            return Outcome("unknown", "unknown_message", exc.reason)
        if exc.filename != Path(path).name:
            return Outcome("unknown", "wrong_filename", f"{exc.filename!r} for {Path(path).name!r}")
        return Outcome("known", key, exc.reason)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # the property under test: nothing but ImageLoadError may escape (Rust
        # decoders panic with pyo3's PanicException, a BaseException that `except Exception` misses)
        return Outcome("unknown", type(exc).__name__, str(exc)[:200])
    try:
        check_image(image)
    except AssertionError as exc:
        return Outcome("unknown", "bad_image", str(exc)[:200])
    return Outcome("ok", "ok")
