"""What scoring itself says about a film, beside its probability: the texts the predictor puts on an image.

Kept apart from the predictor (and torch) so that the window can tell them from the decoder's warnings
without loading the model code.
"""

from __future__ import annotations

MIRRORED_WARNING = (
    "Possibly mirrored: the film reads as flipped left-right (a flipped export or wrong side marker, or "
    "dextrocardia). It was scored flipped back, the way the model reads films; check the side marker."
)
ORIENTATION_NOTE = "Orientation corrected:"
DISPLAYED_NOTE = "Scored as displayed: the orientation was set by the reader in the viewer."


def displayed_note(displayed: int) -> str:
    """DISPLAYED_NOTE naming the reader's orientation, so every copy of the result (panel, PDF, SR) says which
    turn or flip it was scored in."""
    from pneumo_desktop.core.orientation import describe  # numpy only; kept out of this module's import

    return f"{DISPLAYED_NOTE[:-1]}: {describe(displayed)} from the film as stored."


UNUSUAL_WARNING = (
    "Unusual image: quality or positioning differs from the training films; interpret the score with extra care."
)
NEGATIVE_WARNING = (
    "The image looks like a negative (bright air, dark bones): its photometric tag may be wrong. "
    "It was scored inverted; check the display."
)

# core/population_flag.py: no age in the file, and the model's embedding says adult.
ADULT_LOOK_WARNING = ("Population: age unknown, and this film looks like an adult's (the model was made for "
                      "children aged 1-5); the probability may not hold for adults.")


def without_scoring_notes(warnings: list[str]) -> list[str]:
    """The warnings about a file that scoring did not add (what a new scoring of it starts from)."""
    notes = (MIRRORED_WARNING, UNUSUAL_WARNING, NEGATIVE_WARNING, ORIENTATION_NOTE, DISPLAYED_NOTE, ADULT_LOOK_WARNING)
    return [w for w in warnings if not w.startswith(tuple(n[:24] for n in notes))]


__all__ = ["ADULT_LOOK_WARNING", "DISPLAYED_NOTE", "displayed_note", "MIRRORED_WARNING", "NEGATIVE_WARNING",
           "ORIENTATION_NOTE", "UNUSUAL_WARNING",
           "without_scoring_notes"]
