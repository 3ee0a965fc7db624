"""The user-facing wording of a result and of the model card, shared by the PDF report and the GUI so
that both say exactly the same thing."""

from __future__ import annotations

import math
from typing import Any

from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.prediction import Prediction

HEATMAP_CAPTION = (
    "Coloured regions most influenced the score (Grad-CAM). They are not lesion outlines and may "
    "highlight regions outside the lungs. Below the decision threshold the map is drawn in proportion to "
    "the score (faint for a low score), so it is not read as a finding."
)
# Metrics shown first, in this order, with their names for people.
METRIC_NAMES = {
    "roc_auc": "ROC AUC", "sensitivity": "Sensitivity", "specificity": "Specificity",
    "accuracy": "Accuracy", "precision": "PPV", "f1": "F1", "pr_auc": "PR AUC", "ece": "ECE",
}


def sentence(text: str) -> str:
    """Gate reasons are written to follow a colon; standing alone they need a capital."""
    return text[:1].upper() + text[1:]


def percent(probability: float) -> str:
    # "100.0 %" would claim certainty the model does not have.
    if probability > 0.999:
        return "> 99.9 %"
    if probability < 0.001:
        return "< 0.1 %"
    return f"{100.0 * probability:.1f} %"


def meaning(prediction: Prediction) -> str:
    """One sentence on what the number means, or why there is none."""
    if prediction.rejected is not None:
        return f"Not scored: {prediction.rejected.reason}"
    if prediction.probability is None:
        return "No probability was computed for this image."
    p, t = prediction.probability, prediction.threshold
    side = "at or above" if p >= t else "below"
    return (
        f"The model estimates a {percent(p)} probability of pneumonia; this is {side} its decision "
        f"threshold of {percent(t)}, so it is labelled {prediction.label}. The probability was calibrated on "
        f"validation images from the training hospital (as they are and with simulated film and exposure "
        f"changes); on the held-out test images it was overconfident, so read it as a ranking aid, "
        f"not an exact risk."
    )


def timing(elapsed_ms: float) -> str:
    """The window's time line. It is the model's time for this one image with its heatmap; the CSV/JSONL
    ``elapsed_ms`` of a batch is the batch's model time divided by its images, without heatmaps, so smaller."""
    return f"Model time {elapsed_ms:.0f} ms for this image and its heatmap, on this computer."


def metrics_split(card: ModelCard) -> tuple[str, dict[str, Any]] | None:
    """The test metrics if present, else validation, with the split's name; None when neither exists."""
    for split in ("test", "validation"):
        values = (card.metrics or {}).get(split)
        if isinstance(values, dict) and values:
            return split, values
    return None


def _metric_text(value: Any) -> str | None:
    ci: Any = None
    if isinstance(value, dict):
        ci, value = value.get("ci95"), value.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return None
    text = f"{value:.3f}"
    numbers = isinstance(ci, list | tuple) and len(ci) == 2 and all(isinstance(c, int | float) for c in ci)
    if numbers and all(math.isfinite(c) for c in ci):
        text += f" (95 % CI {ci[0]:.3f}-{ci[1]:.3f})"
    return text


def metric_lines(card: ModelCard) -> list[tuple[str, str]]:
    """(name, "0.961 (95 % CI 0.948-0.972)") pairs of the card's headline metrics."""
    found = metrics_split(card)
    if found is None:
        return []
    _, values = found
    lines = []
    for key, name in METRIC_NAMES.items():
        if key in values:
            text = _metric_text(values[key])
            if text is not None:
                lines.append((name, text))
    n = values.get("n")
    if isinstance(n, int) and not isinstance(n, bool):
        refused = values.get("gate_rejected")
        if isinstance(refused, int) and not isinstance(refused, bool) and refused > 0:
            # The split has n + refused images; say so, or "623" reads as a miscount of the 624-image test set.
            lines.append(("Images", f"{n} ({n + refused} in the set; {refused} refused by the "
                                    f"not-a-chest-X-ray gate, so not scored)"))
        else:
            lines.append(("Images", str(n)))
    return lines


def threshold_reason(card: ModelCard, probability: float | None = None) -> str | None:
    """One line on why the threshold sits where it does, so "56 %, labelled NORMAL" does not read as a slip
    (said outright for a score between 50 % and the threshold). None when the card does not record how the
    threshold was chosen."""
    target = (card.config or {}).get("target_sensitivity")
    if not isinstance(target, int | float) or isinstance(target, bool) or not 0 < target < 1:
        return None
    text = (f"Why {percent(card.threshold)}: it is the highest threshold that still flagged {100 * target:.0f} % of "
            "the pneumonia films in validation")
    found = metrics_split(card)
    sensitivity = _metric_text(found[1].get("sensitivity")) if found is not None else None
    if found is not None and sensitivity is not None:
        text += f" (sensitivity on the {found[0]} set: {sensitivity.split(' ')[0]})"
    if probability is not None and 0.5 <= probability < card.threshold:
        text += f"; so {percent(probability)}, though over 50 %, is labelled NORMAL"
    return text + "."


def metrics_heading(card: ModelCard) -> str:
    found = metrics_split(card)
    if found is None:
        return "No evaluation metrics are recorded in the model card."
    split = found[0]
    return "Held-out test set" if split == "test" else "Validation set (no test metrics recorded)"


def intended_population_text(card: ModelCard) -> str:
    population = card.intended_population or {}
    parts = []
    if population.get("description"):
        parts.append(str(population["description"]).rstrip(".") + ".")
    ages = population.get("age_years")
    if isinstance(ages, list | tuple) and len(ages) == 2:
        parts.append(f"Ages {ages[0]}-{ages[1]} years.")
    if population.get("views"):
        parts.append("Views: " + ", ".join(map(str, population["views"])) + ".")
    if population.get("modalities"):
        parts.append("Modalities: " + ", ".join(map(str, population["modalities"])) + ".")
    return " ".join(parts) if parts else "The model card does not state an intended population."
