"""The words for a film and its prior, side by side (issue 27): two separate readings, never a measured
progression. A difference is called higher or lower only when both films were scored with no gate warning
and it exceeds the model's own spread on repeat films of one chest (``repeat_spread.json`` beside the model,
written by training/repeat_spread.py); otherwise the numbers stand without a label."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SPREAD_FILENAME = "repeat_spread.json"
TWO_READINGS = ("Two separate readings of two films by the same model, not a measurement of change: "
                "compare the films yourself.")


def repeat_spread(model_dir: Path, fingerprint: str) -> float | None:
    """The probability difference repeat films of one chest stay within (95 % of validation films), for this
    model; None when not measured for it."""
    path = model_dir / SPREAD_FILENAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("format_version") != 1 or data.get("model_fingerprint") != fingerprint:
        return None
    value = data.get("threshold")
    return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class ComparisonText:
    headline: str  # "Prior 12.0 % (2024-01-05) → current 81.3 % (2024-03-02): difference +69.3 points"
    label: str  # "higher" / "lower" / "" (no label: within the spread, a warning, or not scored)
    explanation: str  # why there is or is not a label, and what the numbers are


def _percent(p: float) -> str:
    from pneumo_desktop.core.result_text import percent  # one way to write a probability ("> 99.9 %")

    return percent(p)


def _date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else "date unknown"


def describe(prior_p: float | None, current_p: float | None, *, prior_date: str, current_date: str,
             prior_warned: bool, current_warned: bool, spread: float | None) -> ComparisonText:
    """``*_warned``: the film was scored with a warning from the gate or the population check (or refused)."""
    if prior_p is None or current_p is None:
        which = "neither film was scored" if prior_p is None and current_p is None else (
            "the prior film was not scored" if prior_p is None else "the current film was not scored")
        return ComparisonText(f"No comparison: {which}.", "", TWO_READINGS)
    difference = current_p - prior_p
    headline = (f"Prior {_percent(prior_p)} ({_date(prior_date)}) → current {_percent(current_p)} "
                f"({_date(current_date)}): difference {difference * 100:+.1f} points")
    if prior_warned or current_warned:
        return ComparisonText(headline, "", f"{TWO_READINGS} No higher/lower label: a film was scored with a "
                                            "warning, so its number is less certain than the spread allows for.")
    if spread is None:
        return ComparisonText(headline, "", f"{TWO_READINGS} No higher/lower label: the model's repeat-film "
                                            "spread was not measured for this model.")
    if abs(difference) <= spread:
        return ComparisonText(headline, "", f"{TWO_READINGS} Within what repeat films of one chest differ by "
                                            f"(up to {spread * 100:.0f} points for 95 % of validation films): "
                                            "no higher/lower label.")
    label = "higher" if difference > 0 else "lower"
    return ComparisonText(headline, label, f"{TWO_READINGS} The current reading is {label} by more than repeat "
                                           f"films of one chest differ ({spread * 100:.0f} points for 95 % of "
                                           "validation films).")
