"""DICOM VOI stage: stored window, VOI LUT or percentile window -> [0, 1], plus extra display presets.

Windows here are in modality units (after Rescale/Modality LUT). Presets are returned in the normalised
coordinates of the windowed [0, 1] pixels, where the window actually applied is (0.5, 1.0). That one is
LoadedImage.default_window, and the viewer adds a full-range preset of the [0, 1] pixels itself (which,
whenever the modality range fits inside the applied window, is the same as the modality full range), so
the presets here are only the other stored windows and the automatic window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_voi

from pneumo_desktop.core.dicom_modality import lut_problem
from pneumo_desktop.core.image import WindowPreset

AUTO_PERCENTILES = (0.5, 99.5)
# Percentiles on at most ~1 M samples: a stride this coarse changes them by far less than a grey level.
_PERCENTILE_SAMPLES = 1_000_000
# A stored window under which almost nothing stays between black and white does not fit the pixels.
_MIN_INSIDE_FRACTION = 0.01
# Presets that would reach this far outside the windowed pixels show only clipped data; skip them.
_PRESET_SLACK = 0.01


@dataclass(frozen=True)
class Window:
    """A linear window in modality units."""

    name: str
    center: float
    width: float
    function: str = "LINEAR"


@dataclass
class VoiResult:
    pixels: np.ndarray  # float32 [0, 1], before any MONOCHROME1 inversion
    presets: list[WindowPreset]
    source: str  # "window", "lut" or "auto"
    warnings: list[str]


def stored_windows(ds: Dataset) -> list[Window]:
    """Every usable (WindowCenter, WindowWidth) pair, first one first; explanations become names."""
    centers, widths = _floats(ds.get("WindowCenter")), _floats(ds.get("WindowWidth"))
    names = [str(v) for v in _as_list(ds.get("WindowCenterWidthExplanation"))]
    function = str(ds.get("VOILUTFunction") or "LINEAR").strip().upper() or "LINEAR"
    windows = []
    for i, (center, width) in enumerate(zip(centers, widths, strict=False)):
        if np.isfinite(center) and np.isfinite(width) and width > 0:
            name = names[i].strip() if i < len(names) and names[i].strip() else f"DICOM window {i + 1}"
            windows.append(Window(name, center, width, function))
    return windows


def apply_window(values: np.ndarray, window: Window) -> np.ndarray:
    """PS3.3 C.11.2.1.2: LINEAR (the default), LINEAR_EXACT and SIGMOID, output in [0, 1]."""
    c, w = np.float32(window.center), np.float32(window.width)
    # In place on one float32 array: a 100-MP image is 400 MB per temporary.
    if window.function == "SIGMOID":
        out = np.subtract(values, c, dtype=np.float32)
        out *= np.float32(-4.0) / w
        np.clip(out, -80.0, 80.0, out=out)
        np.exp(out, out=out)
        out += np.float32(1.0)
        np.reciprocal(out, out=out)
    elif window.function == "LINEAR_EXACT":
        out = np.subtract(values, c, dtype=np.float32)
        out /= w
        out += np.float32(0.5)
    elif w <= 1.0:
        out = (values > c - 0.5).astype(np.float32)
    else:
        out = np.subtract(values, c - np.float32(0.5), dtype=np.float32)
        out /= w - np.float32(1.0)
        out += np.float32(0.5)
    return np.clip(out, 0.0, 1.0, out=out)


def percentile_window(values: np.ndarray) -> Window:
    stride = max(1, int(np.sqrt(values.size / _PERCENTILE_SAMPLES)))
    sample = values[::stride, ::stride]
    low, high = (float(v) for v in np.percentile(sample, AUTO_PERCENTILES))
    if high <= low:
        low, high = float(values.min()), float(values.max())
    # A constant image keeps a unit-wide window so it maps to black rather than dividing by zero.
    width = max(high - low, 1e-6) if high > low else 1.0
    return Window("Automatic (0.5–99.5 %)", (low + high) / 2.0, width, "LINEAR_EXACT")


def apply_voi_stage(values: np.ndarray, ds: Dataset) -> VoiResult:
    """Choose the VOI transform in DICOM order of preference and map ``values`` into [0, 1].

    A damaged VOI LUT is ignored with a warning and the stored window (or the automatic one) is used: that
    is what every file without a LUT gets, so the pixels stay a faithful, if differently contrasted,
    picture of the data."""
    notes: list[str] = []
    lut_note = ""
    if ds.get("VOILUTSequence"):
        problem = lut_problem(ds.VOILUTSequence[0])
        if problem is None:
            try:
                return _apply_lut(values, ds)
            except Exception as exc:  # library boundary: a LUT that passed our checks but not pydicom's
                problem = f"it could not be applied ({type(exc).__name__})"
        lut_note = f"the DICOM VOI LUT is damaged ({problem}) and was ignored; "
    auto = percentile_window(values)
    windows = stored_windows(ds)
    if windows:
        pixels = apply_window(values, windows[0])
        inside = float(np.mean((pixels > 0.0) & (pixels < 1.0)))
        if inside >= _MIN_INSIDE_FRACTION:
            presets = [_preset(w, windows[0]) for w in windows[1:]]
            if _fits(_preset(auto, windows[0])):
                presets.append(_preset(auto, windows[0]))
            if lut_note:
                notes.append(lut_note + "the stored display window was used")
            return VoiResult(pixels, presets, "window", notes)
        del pixels
        notes.append(
            f"the stored display window (centre {windows[0].center:g}, width {windows[0].width:g}) does not "
            "match the pixel values; an automatic window was used instead"
        )
    if lut_note:
        notes.append(lut_note + "an automatic window was used")
    return VoiResult(apply_window(values, auto), [], "auto", notes)


def inverted_presets(presets: list[WindowPreset]) -> list[WindowPreset]:
    """The same windows after ``pixels -> 1 - pixels`` (MONOCHROME1)."""
    return [WindowPreset(p.name, 1.0 - p.center, p.width) for p in presets]


def _apply_lut(values: np.ndarray, ds: Dataset) -> VoiResult:
    item = ds.VOILUTSequence[0]
    entries, first = int(item.LUTDescriptor[0]) or 65536, int(item.LUTDescriptor[1])
    # The LUT is defined on integer modality values; pydicom warns on float input, so round first.
    table = apply_voi(np.arange(first, first + entries, dtype=np.int64), ds).astype(np.float64)
    low, high = float(table.min()), float(table.max())
    mapped = apply_voi(np.rint(values).astype(np.int64), ds).astype(np.float32)
    # Declared LUT depths are often larger than the values actually used: normalise by the real range.
    pixels = (mapped - low) / (high - low) if high > low else np.zeros_like(mapped)
    return VoiResult(np.clip(pixels, 0.0, 1.0).astype(np.float32), [], "lut", [])


def _preset(window: Window, default: Window) -> WindowPreset:
    return WindowPreset(
        window.name, (window.center - default.center) / default.width + 0.5, window.width / default.width
    )


def _fits(preset: WindowPreset) -> bool:
    low, high = preset.center - preset.width / 2.0, preset.center + preset.width / 2.0
    return low >= -_PRESET_SLACK and high <= 1.0 + _PRESET_SLACK


def _as_list(value: object) -> list[object]:
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes):
        return [value]
    try:
        return list(value)  # type: ignore[call-overload]
    except TypeError:
        return [value]


def _floats(value: object) -> list[float]:
    out = []
    for v in _as_list(value):
        try:
            out.append(float(v))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            out.append(float("nan"))
    return out
