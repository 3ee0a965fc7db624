"""A film and its prior (issue 27, core rules): never matched by name, refused with the reason, and a difference
called higher/lower only past the model's measured repeat-film spread."""

from __future__ import annotations

import json
from pathlib import Path

from pneumo_desktop.core.comparison import SPREAD_FILENAME, describe, repeat_spread
from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.prior import UNVERIFIED_PATIENT, check_prior, prior_candidates
from tests.conftest import DICOM_DIR, REPO, SAMPLES


def _film(**fields: str) -> dict[str, str]:
    base = {"patient_id": "P1", "patient_name": "Doe^Jane", "sex": "F", "modality": "DX", "body_part": "CHEST",
            "study_date": "20260301", "study_time": "101500"}
    return base | fields


def test_one_patients_earlier_chest_film_is_a_prior() -> None:
    check = check_prior(_film(), _film(study_date="20250110"))
    assert check.allowed and check.verified_same_patient and check.reason == ""


def test_the_same_name_is_not_the_same_patient() -> None:
    check = check_prior(_film(), _film(patient_id="P2", study_date="20250110"))
    assert not check.allowed and "different patients" in check.reason


def test_other_issuer_other_sex_or_a_later_date_is_refused_with_the_reason() -> None:
    assert "issuers" in check_prior(_film(issuer_of_patient_id="A"),
                                     _film(issuer_of_patient_id="B", study_date="20250110")).reason
    assert "sex" in check_prior(_film(), _film(sex="M", study_date="20250110")).reason
    assert "later than" in check_prior(_film(), _film(study_date="20260302")).reason
    assert "same time" in check_prior(_film(), _film()).reason
    assert "not a chest" in check_prior(_film(), _film(modality="CT", study_date="20250110")).reason


def test_films_without_a_patient_may_be_paired_by_the_reader_with_a_caution() -> None:
    current, prior = load_image(sorted(SAMPLES.glob("PNEUMONIA/*.jpeg"))[0]), load_image(
        sorted(SAMPLES.glob("NORMAL/*.jpeg"))[0])
    check = check_prior(current.metadata, prior.metadata)
    assert check.allowed and not check.verified_same_patient and check.reason == UNVERIFIED_PATIENT


def test_candidates_are_the_same_patients_earlier_films_newest_first_never_a_png() -> None:
    others = [("older", _film(study_date="20240101")), ("newer", _film(study_date="20251231")),
              ("later", _film(study_date="20270101")), ("other", _film(patient_id="P2", study_date="20250101")),
              ("png", {})]
    assert prior_candidates(_film(), others) == ["newer", "older"]
    assert prior_candidates({}, others) == []


def test_real_dicom_headers_carry_what_the_check_needs() -> None:
    meta = load_image(DICOM_DIR / "cr_mono2_8bit_jpeg_baseline.dcm").metadata
    assert {"patient_id", "issuer_of_patient_id", "sex", "study_date", "study_time"} <= set(meta)


def test_within_the_spread_there_is_no_label() -> None:
    text = describe(0.30, 0.45, prior_date="20250110", current_date="20260301", prior_warned=False,
                    current_warned=False, spread=0.20)
    assert text.label == "" and "+15.0 points" in text.headline and "2025-01-10" in text.headline
    assert "not a measurement of change" in text.explanation


def test_past_the_spread_the_label_says_higher_or_lower() -> None:
    up = describe(0.10, 0.80, prior_date="20250110", current_date="20260301", prior_warned=False,
                  current_warned=False, spread=0.20)
    down = describe(0.80, 0.10, prior_date="20250110", current_date="20260301", prior_warned=False,
                    current_warned=False, spread=0.20)
    assert (up.label, down.label) == ("higher", "lower")


def test_a_warning_or_an_unscored_film_takes_the_label_away() -> None:
    warned = describe(0.10, 0.90, prior_date="", current_date="", prior_warned=True, current_warned=False, spread=0.2)
    assert warned.label == "" and "warning" in warned.explanation and "date unknown" in warned.headline
    refused = describe(None, 0.9, prior_date="", current_date="", prior_warned=False, current_warned=False,
                       spread=0.2)
    assert refused.headline == "No comparison: the prior film was not scored." and refused.label == ""


def test_the_shipped_spread_belongs_to_the_shipped_model(tmp_path: Path) -> None:
    from pneumo_desktop.core.model_card import ModelCard

    fingerprint = ModelCard.read(REPO / "models" / "model_card.json").fingerprint
    assert 0 < (repeat_spread(REPO / "models", fingerprint) or 0) < 1
    (tmp_path / SPREAD_FILENAME).write_text(json.dumps({"format_version": 1, "model_fingerprint": "x",
                                                        "threshold": 0.1}))
    assert repeat_spread(tmp_path, fingerprint) is None
