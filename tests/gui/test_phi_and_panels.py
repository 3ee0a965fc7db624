"""Hide-PHI everywhere on screen; the prediction and DICOM panels; population warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.prediction import Prediction, Rejection
from pneumo_desktop.core.score_warnings import age_in_years, population_warnings
from pneumo_desktop.gui.dicom_panel import DicomPanel
from pneumo_desktop.gui.prediction_panel import PredictionPanel
from tests.core import dicom_factory
from tests.gui.conftest import WAIT_MS

# As the window writes them ("Test, Synthetic", "2019-01-01"); the raw forms are checked too under hide-PHI.
PHI = {"Test, Synthetic", "SYN-001", "2019-01-01", "ACC42", "Test Hospital"}
RAW_PHI = {"Test^Synthetic", "Synthetic", "20190101"}


@pytest.fixture
def patient_file(tmp_path: Path) -> Path:
    # Folders and files are often named after the patient, so the file name counts as PHI too.
    ds = dicom_factory.make_dataset(dicom_factory.gradient(128, 112))
    return dicom_factory.write(ds, tmp_path / "Synthetic_Test_chest.dcm")


def _screen_texts(window) -> str:
    overlay = window.view.overlay
    parts = [window.windowTitle(), window.statusBar().currentMessage()]
    parts += [overlay.text(c) for c in ("top_left", "top_right", "bottom_left", "bottom_right")]
    parts += [f"{k}={v}" for k, v in window.dicom_panel.values().items()]
    model = window.study_list.model
    parts += [str(model.index(r, c).data()) for r in range(model.rowCount()) for c in range(model.columnCount())]
    return "\n".join(parts)


def test_hide_phi_hides_patient_fields_and_file_name_everywhere(qtbot, window, patient_file: Path) -> None:
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([patient_file])
    shown = _screen_texts(window)
    assert "Test, Synthetic" in window.view.overlay.text("top_right")
    assert patient_file.name in window.windowTitle()
    assert all(value in shown for value in PHI)

    window.actions.hide_phi.trigger()  # Shift+F12
    hidden = _screen_texts(window)
    for value in [*PHI, *RAW_PHI, patient_file.name, "Synthetic_Test"]:
        assert value not in hidden, value
    assert "sha256" in window.windowTitle()
    assert "PHI hidden" in window.view.overlay.text("top_right")
    assert window.settings.hide_phi is True

    window.actions.hide_phi.trigger()
    assert "Test, Synthetic" in window.view.overlay.text("top_right")


def test_hide_phi_applies_to_the_study_list(qtbot, window, patient_file: Path, tmp_path: Path) -> None:
    window.set_hide_phi(True)
    second = dicom_factory.write(dicom_factory.make_dataset(dicom_factory.gradient(128, 112)),
                                 tmp_path / "Another_Patient.dcm")
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS):
        window.open_paths([patient_file, second])
    text = _screen_texts(window)
    for value in [*PHI, *RAW_PHI, "Synthetic_Test", "Another_Patient"]:
        assert value not in text, value


def _card(population: dict | None = None, metrics: dict | None = None) -> ModelCard:
    return ModelCard(
        name="demo", version="1.2", architecture={"name": "pneumo_resnet"}, preprocess={"size": 64},
        output={"temperature": 1.0, "threshold": 0.4, "positive_if": "p >= threshold"},
        intended_population=population or {"description": "children", "age_years": [1, 5], "views": ["PA", "AP"]},
        metrics={"test": metrics or {"roc_auc": {"value": 0.95, "ci95": [0.93, 0.97]}, "n": 624}},
    )


def _prediction(probability: float | None, rejected: Rejection | None = None) -> Prediction:
    label = None if probability is None else ("PNEUMONIA" if probability >= 0.4 else "NORMAL")
    return Prediction(probability=probability, label=label, threshold=0.4, model="demo 1.2", model_sha256="ab",
                      elapsed_ms=12.3, rejected=rejected)


def test_prediction_panel_shows_probability_label_meaning_model_and_notice(qtbot) -> None:
    panel = PredictionPanel()
    qtbot.addWidget(panel)
    panel.show_card(_card())
    panel.show_prediction(_prediction(0.734), population_warnings({"age_years": 3.0, "view_position": "PA"},
                                                                  _card().intended_population))
    assert panel.headline.text() == "73.4 %"
    assert panel.label_line.text() == "PNEUMONIA (threshold 40.0 %)"
    assert "73.4 %" in panel.meaning.text() and "threshold" in panel.meaning.text()
    assert panel.bar.probability == pytest.approx(0.734) and panel.bar.threshold == 0.4
    assert "demo 1.2" in panel.model_line.text()
    assert "ROC AUC: 0.950 (95 % CI 0.930-0.970)" in panel.metrics.text()
    assert "Ages 1-5" in panel.population.text()
    assert "does not diagnose" in panel.notice.text()
    assert "12 ms" in panel.elapsed.text()
    assert panel.warning.isHidden()


def test_rejection_reason_replaces_the_score(qtbot) -> None:
    panel = PredictionPanel()
    qtbot.addWidget(panel)
    panel.show_card(_card())
    panel.show_prediction(_prediction(None, Rejection("colour_image", "the image is in colour.")), [])
    assert panel.headline.text() == "Not scored"
    assert "colour_image" in panel.label_line.text()
    assert "the image is in colour" in panel.meaning.text()
    assert panel.bar.probability is None and "%" not in panel.headline.text()
    drawn = panel.bar.grab().toImage()  # no number, so no bar: the widget paints nothing at all
    assert len({drawn.pixel(x, y) for x in range(drawn.width()) for y in range(drawn.height())}) == 1


def test_population_warning_is_visible_for_an_adult_or_lateral_view(qtbot) -> None:
    panel = PredictionPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_card(_card())
    metadata = {"age": "062Y", "age_years": 62.0, "view_position": "LL"}
    panel.show_prediction(_prediction(0.2), population_warnings(metadata, _card().intended_population))
    assert panel.warning.isVisible()
    assert "62.0 years" in panel.warning.text() and "View LL" in panel.warning.text()


@pytest.mark.parametrize(("metadata", "years"), [
    ({"age_years": 4}, 4.0), ({"age": "018M"}, 1.5), ({"age": "002W"}, 14 / 365.25), ({"age": "x"}, None), ({}, None),
    ({"birth_date": "19400305", "study_date": "20040826"}, 64.48), ({"birth_date": "1940", "study_date": "2004"}, None),
])
def test_age_in_years(metadata, years) -> None:
    assert age_in_years(metadata) == (pytest.approx(years, abs=0.01) if years is not None else None)


def test_missing_tags_never_warn() -> None:
    assert population_warnings({}, {"age_years": [1, 5], "views": ["PA"], "modalities": ["CR"]}) == []


def test_dicom_panel_collapses_and_hides_phi(qtbot) -> None:
    panel = DicomPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_metadata({"patient_name": "Doe^Jane", "modality": "CR", "view_position": "PA"})
    assert panel.values()["Patient name"] == "Doe, Jane"  # as people write it, not the raw carets
    panel.set_hide_phi(True)
    assert not any("Doe" in value for value in panel.values().values())
    assert panel.values()["Modality"] == "CR"
    panel.toggle.click()
    assert not panel.is_expanded() and panel.table.isHidden()


def test_the_panel_says_why_the_threshold_sits_where_it_does(qtbot) -> None:
    panel = PredictionPanel()
    qtbot.addWidget(panel)
    card = _card()
    card.config = {"target_sensitivity": 0.95}
    panel.show_card(card)
    panel.show_prediction(_prediction(0.35))
    assert "Why 40.0 %" in panel.threshold_note.text() and "95 %" in panel.threshold_note.text()
    assert "Model time 12 ms" in panel.elapsed.text()
    panel.show_prediction(_prediction(None, Rejection("colour_image", "the image is in colour.")))
    assert panel.threshold_note.text() == ""
