"""DICOM modality stage (stored values -> modality units) and the LUT checks it shares with the VOI stage.

Rescale is done here in float32 rather than by pydicom's ``apply_modality_lut``, which returns float64: for a
100-megapixel image that is 800 MB instead of 400, and a slope such as 1e38 overflowed in the cast to float32
with a raw numpy warning on stderr. A damaged Modality LUT refuses the file: it defines what the pixel
values mean, so there is no safe substitute (a damaged VOI LUT, a display choice, is only ignored).
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_modality_lut

from pneumo_desktop.core.errors import ImageLoadError

# pydicom's LUT code handles 8 to 16 bits per entry (PS3.3 C.11.1.1: 8 or 16).
_LUT_BITS = range(8, 17)


def lut_problem(item: Dataset) -> str | None:
    """What is wrong with a Modality or VOI LUT item, in words, or None when pydicom can apply it."""
    try:
        descriptor = item.get("LUTDescriptor")
        data = item.get("LUTData")
        values = list(descriptor) if descriptor is not None else []
    except Exception:  # library boundary: a value pydicom cannot convert
        return "its values cannot be read"
    if len(values) != 3:
        return "it has no valid LUT Descriptor"
    try:
        entries, bits = int(values[0]) or 65536, int(values[2])
    except (TypeError, ValueError):
        return "its LUT Descriptor is not numeric"
    if bits not in _LUT_BITS:
        return f"its entries are {bits} bits wide (8 to 16 are allowed)"
    if data is None:
        return "it has no LUT Data"
    if isinstance(data, bytes):  # OW: 16-bit words, two 8-bit entries to a word
        count = len(data) if bits <= 8 else len(data) // 2
    else:
        count = len(data) if isinstance(data, list | tuple) or hasattr(data, "__len__") else 1
    if count < entries:
        return f"it holds {count} entries where its descriptor states {entries}"
    return None


def modality_values(raw: np.ndarray, ds: Dataset, name: str) -> np.ndarray:
    """Stored values in modality units, float32; ImageLoadError when the header's transform is unusable."""
    sequence = ds.get("ModalityLUTSequence")
    if sequence:
        problem = lut_problem(sequence[0])
        if problem is None:
            try:
                return np.asarray(apply_modality_lut(raw, ds), dtype=np.float32)
            except Exception as exc:  # library boundary: a LUT that passed our checks but not pydicom's
                problem = f"it could not be applied ({type(exc).__name__})"
        raise ImageLoadError(
            f"the DICOM Modality LUT is damaged ({problem}), so the pixel values cannot be interpreted", name)
    (slope, slope_text), (intercept, intercept_text) = (_number(ds, "RescaleSlope", 1.0),
                                                        _number(ds, "RescaleIntercept", 0.0))
    out_of_range = ImageLoadError(
        f"the DICOM rescale (slope {slope_text}, intercept {intercept_text}) takes the pixel values out of "
        "range", name)
    if not (np.isfinite(slope) and np.isfinite(intercept)):
        raise out_of_range
    if slope < 0:
        # Higher stored values would mean less X-ray attenuation: the film would be read as its own negative,
        # and the model would score the negative without a word.
        raise ImageLoadError(
            f"the DICOM rescale slope is negative ({slope_text}): it would show the film as its own negative, "
            "so the file was not read", name)
    values = raw.astype(np.float32)
    # Overflow is expected from hostile headers and reported below in words, not as a numpy warning.
    with np.errstate(over="ignore", invalid="ignore"):
        if slope != 1.0:
            values *= np.float32(slope)
        if intercept != 0.0:
            values += np.float32(intercept)
        finite = bool(np.isfinite(values).all())
    if not finite:
        raise out_of_range
    return values


def _number(ds: Dataset, keyword: str, default: float) -> tuple[float, str]:
    """The value and its text for a message: a finite number as %g, anything else as the file writes it (a
    slope of "inf" was reported as "slope nan"). An unreadable or absent value gives the default."""
    try:
        value = ds.get(keyword)
        if value in (None, ""):
            return default, f"{default:g}"
        number = float(value)
    except (TypeError, ValueError):
        return default, f"{default:g}"
    if np.isfinite(number):
        return number, f"{number:g}"
    text = str(value).strip()[:16]  # a DS holds at most 16 characters, all of them numeric once float() took it
    return number, text or f"{number:g}"
