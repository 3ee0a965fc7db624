"""Scored DICOM sources for the DICOM-results tests: a synthetic film with a full patient and study (Unicode
names), and a real Japanese CR header (ISO 2022 IR 87) given pixels, since its own file has none."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.core.scoring import model_input_for
from tests.conftest import DICOM_DIR
from tests.core.dicom_factory import gradient, make_dataset, write

STUDY_TAGS = dict(
    SpecificCharacterSet="ISO_IR 192", PatientName="Yamada^Taro=山田^太郎", PatientID="PID-7731",
    PatientBirthDate="20190101", PatientSex="M", AccessionNumber="ACC-5521",
    InstitutionName="Klinikum Süd / Больница", StudyDescription="Thorax p.a.", StudyID="S42",
    PatientAge="017Y", StudyTime="101500", ReferringPhysicianName="Dr^Who", Manufacturer="Test", PatientOrientation=["L", "F"],
)


@dataclass
class Scored:
    path: Path
    image: LoadedImage
    prediction: Prediction
    source: pydicom.Dataset


def with_study_uids(ds: pydicom.Dataset) -> pydicom.Dataset:
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    return ds


def score(path: Path, predictor) -> Scored:
    image = load_image(path)
    prediction = predictor.predict(model_input_for(image, predictor.size), heatmap=True)
    return Scored(path, image, prediction, pydicom.dcmread(path, stop_before_pixels=True, force=True))


@pytest.fixture(scope="module")
def patient_film(tmp_path_factory: pytest.TempPathFactory, tiny_predictor) -> Scored:
    folder = tmp_path_factory.mktemp("films")
    ds = with_study_uids(make_dataset(gradient(160, 128), bits_stored=12, **STUDY_TAGS))
    return score(write(ds, folder / "Yamada chest.dcm"), tiny_predictor)


@pytest.fixture(scope="module")
def japanese_film(tmp_path_factory: pytest.TempPathFactory, tiny_predictor) -> Scored:
    ds = pydicom.dcmread(DICOM_DIR / "cr_chest_no_pixel_data.dcm")
    pixels = gradient(128, 128, high=4095)
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation, ds.SamplesPerPixel = 16, 12, 11, 0, 1
    ds.PixelData = pixels.tobytes()
    ds["PixelData"].VR = "OW"
    for keyword in ("WindowCenter", "WindowWidth"):
        ds.pop(keyword, None)
    path = tmp_path_factory.mktemp("japanese") / "jap.dcm"
    ds.save_as(path, enforce_file_format=True)
    return score(path, tiny_predictor)
