"""score_warnings gathers every warning that qualifies a score, whatever its source or shape."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.core.records import record_from
from pneumo_desktop.core.score_warnings import phi_safe, population_warnings, score_warnings, warning_text

POPULATION = {"age_years": [1, 5], "views": ["PA", "AP"], "modalities": ["CR", "DX"]}


@dataclass
class CodedWarning:  # the shape a future gate warning might take
    code: str
    text: str


def _image(**metadata) -> LoadedImage:
    return LoadedImage(np.zeros((8, 8), np.float32), Path("x.dcm"), "dicom", "ab" * 32, dict(metadata),
                       warnings=["Lossy compressed (JPEG baseline)."])


def _prediction(warnings: list | None = None) -> Prediction:
    prediction = Prediction(probability=0.3, label="NORMAL", threshold=0.5, model="m 1", model_sha256="cd",
                            elapsed_ms=1.0)
    if warnings is not None:
        prediction.warnings = warnings  # type: ignore[attr-defined]
    return prediction


def test_image_prediction_and_population_warnings_all_travel_in_order_once() -> None:
    image = _image(age="030Y", view_position="PA")
    prediction = _prediction(["Lossy compressed (JPEG baseline).", CodedWarning("possibly_mirrored", "The film may "
                              "be mirrored (heart on the right)."), {"code": "not_upright"}])
    found = score_warnings(image, prediction, POPULATION)
    assert found == ["Lossy compressed (JPEG baseline).", "The film may be mirrored (heart on the right).",
                     "Not upright", "Patient age 30.0 years is outside the model's intended 1-5 years: the "
                     "probability may be wrong."]
    record = record_from("x.dcm", prediction, image, population=POPULATION)
    assert record["warnings"] == found


def test_hide_phi_keeps_the_age_warning_without_the_age() -> None:
    (warning,) = population_warnings({"age_years": 62.0}, POPULATION, hide_phi=True)
    assert warning == "Patient age is outside the model's intended 1-5 years: the probability may be wrong."
    assert phi_safe("View LL is not one the model was made for (PA, AP).") == \
        "View LL is not one the model was made for (PA, AP)."
    assert score_warnings(_image(age="062Y"), None, POPULATION, hide_phi=True)[-1] == warning


def test_no_image_no_prediction_no_population_means_no_warnings() -> None:
    assert score_warnings(None, None, None) == []
    assert warning_text(CodedWarning("x", "")) == "x"


def test_a_lossy_dicom_and_decoder_notes_are_warnings_too() -> None:
    image = _image(lossy_compression=True)
    image.warnings = ["the DICOM file holds 3 frames; only the first is shown and analysed"]
    assert score_warnings(image, None, None) == [
        "The DICOM file holds 3 frames; only the first is shown and analysed",
        "The DICOM pixel data were lossy-compressed: fine detail may have been lost."]


def test_no_age_in_a_dicom_gets_the_population_caution_a_raster_does_not() -> None:
    from pneumo_desktop.core.score_warnings import population_warnings

    population = {"age_years": [1, 5]}
    (warning,) = population_warnings({"age": None, "birth_date": None, "study_date": "20240102"}, population)
    assert warning.startswith("Age unknown") and "1-5 years" in warning
    assert population_warnings({"age": "004Y"}, population) == []
    assert population_warnings({"rows": 10, "columns": 12}, population) == []  # a PNG/JPEG: no header at all
    assert population_warnings({"age": None}, {}) == []  # a card without an age range
