"""The result panel: calibrated probability, label at the card's threshold, what it means, every warning that
qualifies it (core.score_warnings: the decode's, scoring's and the intended population's; they stay for as
long as the result is shown), the model and its test metrics, the time taken and the "assists, does not
diagnose" notice. Wording comes from core.result_text, so the panel and the PDF say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from pneumo_desktop import DISCLAIMER
from pneumo_desktop.core import result_text

if TYPE_CHECKING:
    from pneumo_desktop.core.model_card import ModelCard
    from pneumo_desktop.core.prediction import Prediction

POSITIVE_COLOUR = QColor(190, 60, 40)
NEGATIVE_COLOUR = QColor(40, 120, 170)


class ProbabilityBar(QWidget):
    """A horizontal bar filled to the probability with a tick at the decision threshold."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.probability: float | None = None
        self.threshold = 0.5
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Probability bar")

    def set_values(self, probability: float | None, threshold: float) -> None:
        self.probability, self.threshold = probability, threshold
        text = "no probability" if probability is None else result_text.percent(probability)
        self.setAccessibleDescription(f"{text}; threshold {result_text.percent(threshold)}")
        self.setToolTip(f"Probability {text}. The tick marks the decision threshold.")
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(220, 18)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        if self.probability is None:
            return  # no number, no bar (keeps its place in the layout)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QRectF(self.rect()).adjusted(1, 3, -1, -3)
        painter.setPen(QPen(self.palette().mid().color()))
        painter.setBrush(self.palette().base())
        painter.drawRoundedRect(frame, 3, 3)
        colour = POSITIVE_COLOUR if self.probability >= self.threshold else NEGATIVE_COLOUR
        filled = QRectF(frame.left(), frame.top(), frame.width() * self.probability, frame.height())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(filled, 3, 3)
        x = frame.left() + frame.width() * self.threshold
        painter.setPen(QPen(self.palette().windowText().color(), 2))
        painter.drawLine(int(x), int(self.rect().top()), int(x), int(self.rect().bottom()))
        painter.end()


def _label(parent: QWidget, name: str, *, wrap: bool = True) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setAccessibleName(name.replace("_", " "))
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # keyboard users can reach and read every line
    return label


class PredictionPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Prediction panel")
        self._card: ModelCard | None = None
        self.headline = _label(self, "probability")
        self.headline.setProperty("role", "headline")
        self.bar = ProbabilityBar(self)
        self.label_line = _label(self, "label")
        self.threshold_note = _label(self, "threshold_reason")
        self.meaning = _label(self, "meaning")
        self.warning = _label(self, "warnings")
        self.warning.setProperty("role", "warning")
        self.elapsed = _label(self, "time_taken")
        self.model_line = _label(self, "model")
        self.metrics = _label(self, "test_metrics")
        self.population = _label(self, "intended_population")
        self.notice = _label(self, "notice")
        self.notice.setProperty("role", "notice")
        self.notice.setFrameShape(QFrame.Shape.StyledPanel)
        self.notice.setText(DISCLAIMER)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        for widget in (self.headline, self.bar, self.label_line, self.threshold_note, self.meaning, self.warning,
                       self.elapsed):
            layout.addWidget(widget)
        layout.addSpacing(6)
        for widget in (self.model_line, self.metrics, self.population):
            layout.addWidget(widget)
        layout.addSpacing(6)
        layout.addWidget(self.notice)
        layout.addStretch(1)
        self.show_message("Open or drop a chest X-ray to see the probability of pneumonia.")
        self.show_card(None)

    # ----- model card -------------------------------------------------------------------------------
    def show_card(self, card: ModelCard | None, unavailable: str | None = None) -> None:
        self._card = card
        if card is None:
            self.model_line.setText(unavailable or "Model: loading…")
            self.metrics.clear()
            self.metrics.setVisible(False)
            self.population.clear()
            self.population.setVisible(False)
            return
        # The short fingerprint, as the PDF and SR carry it in full: which exact model made the number.
        self.model_line.setText(f"Model: {card.display_name} · fingerprint {card.fingerprint[:12]}…")
        self.model_line.setToolTip(f"Model fingerprint (weights + card, sha256): {card.fingerprint}")
        lines = [f"{name}: {value}" for name, value in result_text.metric_lines(card)]
        self.metrics.setText("\n".join([result_text.metrics_heading(card), *lines]))
        self.metrics.setVisible(True)
        self.population.setText("Intended population: " + result_text.intended_population_text(card))
        self.population.setVisible(True)

    # ----- states ---------------------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self._set_result(headline="—", label="", meaning=text, probability=None)
        self.threshold_note.clear()
        self.set_warnings([])
        self.elapsed.clear()

    def set_warnings(self, warnings: Sequence[str]) -> None:
        """Replaced only with the next result or message, never timed out: a warning qualifies the score."""
        self.warning.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.warning.setVisible(bool(warnings))

    def warnings(self) -> list[str]:
        return [line.removeprefix("⚠ ") for line in self.warning.text().splitlines() if line]

    def show_busy(self, text: str = "Analysing…") -> None:
        self.show_message(text)

    def show_error(self, text: str) -> None:
        self.show_message(text)
        self.headline.setText("No result")

    def show_prediction(self, prediction: Prediction, warnings: Sequence[str] = ()) -> None:
        if prediction.rejected is not None:
            # The reason replaces the score: no number is shown for an input the model must not read.
            self._set_result(headline="Not scored", label=f"Details: {prediction.rejected.details_line()}",
                             meaning=result_text.meaning(prediction), probability=None,
                             threshold=prediction.threshold)
        else:
            probability = float(prediction.probability or 0.0)
            self._set_result(
                headline=result_text.percent(probability),
                label=f"{prediction.label} (threshold {result_text.percent(prediction.threshold)})",
                meaning=result_text.meaning(prediction), probability=probability,
                threshold=prediction.threshold,
            )
        reason = None
        if self._card is not None and prediction.rejected is None:
            reason = result_text.threshold_reason(self._card, prediction.probability)
        self.threshold_note.setText(reason or "")
        self.set_warnings(warnings)
        self.elapsed.setText(result_text.timing(prediction.elapsed_ms))

    def show_other_orientation(self, prediction: Prediction, warnings: Sequence[str] = ()) -> None:
        """The view no longer shows the film as this result scored it (Score as Displayed, then a turn or a
        flip): no number is shown beside a film it was not computed for."""
        was = ("not scored" if prediction.probability is None
               else f"{result_text.percent(prediction.probability)} ({prediction.label})")
        self._set_result(
            headline="For another orientation", label=f"The result ({was}) was for the film as you turned it then.",
            meaning="Press Ctrl+Shift+D to score the film as it is displayed now, or Ctrl+Shift+M (or Space) to "
                    "score it in the model's own orientation.",
            probability=None, threshold=prediction.threshold)
        self.threshold_note.clear()
        self.set_warnings(warnings)
        self.elapsed.clear()

    def _set_result(self, *, headline: str, label: str, meaning: str, probability: float | None,
                    threshold: float | None = None) -> None:
        self.headline.setText(headline)
        # Lines are emptied rather than hidden: showing a widget costs a synchronous relayout of the panel's
        # wrapped texts (2-3 ms each, on the GUI thread, between drop and result), and the panel no longer
        # jumps between "Analysing" and the result.
        self.label_line.setText(label)
        self.meaning.setText(meaning)
        if threshold is None:
            threshold = self._card.threshold if self._card is not None else 0.5
        self.bar.set_values(probability, threshold)
