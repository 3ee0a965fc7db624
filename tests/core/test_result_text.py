"""Wording shared by the PDF report and the GUI: metrics from the card, what a probability means."""

from __future__ import annotations

import math

from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.prediction import Prediction, Rejection
from pneumo_desktop.core.result_text import meaning, metric_lines, metrics_heading, sentence


def _card(metrics: dict) -> ModelCard:
    return ModelCard(name="m", version="1", architecture={}, preprocess={"size": 64},
                     output={"temperature": 1.0, "threshold": 0.4, "positive_if": "p >= threshold"},
                     metrics=metrics)


def _prediction(p: float | None, rejected: Rejection | None = None) -> Prediction:
    label = None if p is None else ("PNEUMONIA" if p >= 0.4 else "NORMAL")
    return Prediction(probability=p, label=label, threshold=0.4, model="m 1", model_sha256="x",
                      elapsed_ms=1.0, rejected=rejected)


def test_test_metrics_win_and_carry_their_confidence_intervals() -> None:
    # The shape training's metrics_with_ci writes.
    test = {"roc_auc": {"value": 0.9612, "ci95": [0.948, 0.9721]}, "ece": {"value": 0.031, "ci95": [math.nan, 0.05]},
            "pr_auc": {"value": math.nan, "ci95": [math.nan, math.nan]}, "n": 624, "threshold": 0.4,
            "confusion_matrix": {"tp": 1}}
    card = _card({"validation": {"roc_auc": {"value": 0.5, "ci95": [0.4, 0.6]}}, "test": test})
    lines = dict(metric_lines(card))
    assert lines["ROC AUC"] == "0.961 (95 % CI 0.948-0.972)"
    assert lines["ECE"] == "0.031"  # a NaN bound drops the interval, not the value
    assert "PR AUC" not in lines  # NaN metrics are not printed
    assert lines["Images"] == "624"
    assert metrics_heading(card) == "Held-out test set"


def test_validation_is_the_fallback_and_none_is_said_plainly() -> None:
    card = _card({"validation": {"sensitivity": 0.9}, "test": None})
    assert metric_lines(card) == [("Sensitivity", "0.900")]
    assert "Validation" in metrics_heading(card)
    empty = _card({"validation": None, "test": None})
    assert metric_lines(empty) == [] and "No evaluation metrics" in metrics_heading(empty)


def test_meaning_names_the_side_of_the_threshold() -> None:
    assert "at or above" in meaning(_prediction(0.4)) and "PNEUMONIA" in meaning(_prediction(0.4))
    assert "below" in meaning(_prediction(0.12)) and "NORMAL" in meaning(_prediction(0.12))
    rejected = _prediction(None, Rejection("too_small", "image is 9x9 pixels"))
    assert meaning(rejected) == "Not scored: image is 9x9 pixels"
    assert sentence("image is small") == "Image is small"


def test_the_threshold_is_explained_and_the_gate_refusals_counted() -> None:
    from pneumo_desktop.core.model_card import ModelCard
    from pneumo_desktop.core.result_text import threshold_reason

    card = ModelCard(name="m", version="1", architecture={}, preprocess={"size": 64},
                     output={"temperature": 1.0, "threshold": 0.70528, "positive_if": "p >= threshold"},
                     metrics={"test": {"sensitivity": {"value": 0.954}, "n": 623, "gate_rejected": 1}},
                     config={"target_sensitivity": 0.95})
    reason = threshold_reason(card)
    assert reason is not None and "70.5 %" in reason and "95 %" in reason and "0.954" in reason
    assert "56.0 %, though over 50 %, is labelled NORMAL" in threshold_reason(card, 0.56)
    assert "labelled NORMAL" not in threshold_reason(card, 0.9) and "labelled" not in threshold_reason(card, 0.2)
    assert dict(metric_lines(card))["Images"].startswith("623 (624 in the set; 1 refused by the")
    card.config = {}
    assert threshold_reason(card) is None
