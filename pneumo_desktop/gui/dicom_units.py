"""Window/level and pixel values in the DICOM's own (modality) units, for the corner text and preset names.
Qt-free.

The loader hands the viewer pixels already put through the file's first stored window (WC/WW) and scaled to
[0, 1], then inverted for MONOCHROME1; radiologists read "W 1024 L 550", not "W 1.000 L 0.500". Mapping back
is exact inside that window. Outside it the loader clipped the values, so the corner says "≤ 38" or "≥ 1062"
instead of a number it cannot know. Files shown through a VOI LUT or an automatic window (no stored window
that fits) keep the 0-1 display scale: their modality values are not recoverable from what is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pneumo_desktop.core.image import WindowPreset

_STORED_NAME = re.compile(r"^DICOM window (\d+)$")


def _first(value: Any) -> float | None:
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number


def _all(value: Any) -> list[float | None]:
    return [_first(v) for v in value] if isinstance(value, list | tuple) else [_first(value)]


@dataclass(frozen=True)
class ModalityUnits:
    center: float  # the applied window, modality units
    width: float
    inverted: bool  # MONOCHROME1: display value 1 is the lowest modality value

    @classmethod
    def of(cls, metadata: dict[str, Any]) -> ModalityUnits | None:
        if metadata.get("voi") != "window":
            return None
        center, width = _first(metadata.get("window_center")), _first(metadata.get("window_width"))
        if center is None or width is None or width <= 0:
            return None
        return cls(center, width, str(metadata.get("photometric") or "").upper() == "MONOCHROME1")

    def _modality(self, shown: float) -> float:
        fraction = 1.0 - shown if self.inverted else shown
        return self.center + (fraction - 0.5) * self.width

    def window(self, center: float, width: float) -> tuple[float, float]:
        """A display window ([0, 1] units) as (level, width) in modality units."""
        return self._modality(center), width * self.width

    def value_text(self, shown: float) -> str:
        low, high = self.center - self.width / 2.0, self.center + self.width / 2.0
        at_low = shown >= 1.0 if self.inverted else shown <= 0.0
        at_high = shown <= 0.0 if self.inverted else shown >= 1.0
        if at_low:
            return f"≤ {low:.0f}"
        if at_high:
            return f"≥ {high:.0f}"
        return f"{self._modality(shown):.0f}"


def preset_names(presets: list[WindowPreset], metadata: dict[str, Any]) -> list[WindowPreset]:
    """Presets named after the tags they come from: "WC 550 / WW 1024" (the applied one), the other stored
    windows likewise (an explanation in the file is kept), "VOI LUT 1" for a VOI LUT."""
    voi = metadata.get("voi")
    centers, widths = _all(metadata.get("window_center")), _all(metadata.get("window_width"))

    def tag_name(index: int) -> str | None:
        if index < len(centers) and index < len(widths) and centers[index] is not None and widths[index]:
            return f"WC {centers[index]:g} / WW {widths[index]:g}"
        return None

    out = []
    for number, preset in enumerate(presets):
        name = preset.name
        if number == 0 and voi == "lut":
            name = "VOI LUT 1"
        elif number == 0 and voi == "window":
            name = tag_name(0) or name
        elif number == 0 and voi == "auto":
            name = "Automatic (0.5–99.5 %)"
        else:
            stored = _STORED_NAME.match(name)
            if stored:
                name = tag_name(int(stored.group(1)) - 1) or name
        out.append(WindowPreset(name, preset.center, preset.width))
    return out
