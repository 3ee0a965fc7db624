"""Films that arrive over DICOM are named for the study list: what they are, no patient data, one name per
instance."""

from __future__ import annotations

import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from pneumo_desktop.dicom_net.received_files import received_file_name
from tests.conftest import DICOM_DIR


def _ds(**tags: object) -> Dataset:
    """As received: values kept raw, so malformed ones reach the naming code as a network peer sends them."""
    ds = Dataset()
    for keyword, value in tags.items():
        tag = Tag(keyword)
        vr = dictionary_VR(tag)
        raw = str(value).encode("ascii")
        ds[tag] = RawDataElement(tag, vr, len(raw), raw, 0, True, True)
    return ds


def test_the_name_says_modality_series_and_instance_and_nothing_about_the_patient() -> None:
    film = pydicom.dcmread(DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm", stop_before_pixels=True)
    name = received_file_name(film)
    assert name is not None and name.startswith(f"{film.Modality}-") and name.endswith(".dcm")
    for value in (film.get("PatientName"), film.get("PatientID"), film.get("StudyDate")):
        if value:
            assert str(value) not in name
    assert len(name) <= 40


def test_one_name_per_instance_and_the_same_instance_keeps_its_name() -> None:
    a = _ds(SOPInstanceUID="1.2.3.4", Modality="CR", SeriesNumber=2, InstanceNumber=1)
    b = _ds(SOPInstanceUID="1.2.3.5", Modality="CR", SeriesNumber=2, InstanceNumber=1)
    assert received_file_name(a) != received_file_name(b)
    assert received_file_name(a) == received_file_name(_ds(SOPInstanceUID="1.2.3.4", Modality="CR", SeriesNumber=2,
                                                           InstanceNumber=1))
    assert received_file_name(a).startswith("CR-S2-I1-")


def test_odd_tags_never_reach_the_path() -> None:
    assert received_file_name(_ds(SOPInstanceUID="1.2.3", Modality="../../x", SeriesNumber="abc")) \
        .startswith("X-")
    assert received_file_name(_ds(SOPInstanceUID="1.2.3")).startswith("DICOM-")
    assert received_file_name(_ds(SOPInstanceUID="../../etc/passwd")) is None
    assert received_file_name(_ds()) is None
    for not_a_uid in ("..", "1..2", ".1.2", "1.2.", "1" * 65):
        assert received_file_name(_ds(SOPInstanceUID=not_a_uid)) is None
