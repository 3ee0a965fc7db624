"""Only values valid for their VR are copied from the source film: the check itself, without validators."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.dataset import Dataset

from pneumo_desktop.dicom_out.valid_values import drop_invalid_values, is_valid
from tests.conftest import DICOM_DIR

# pydicom warns when a test assigns an invalid value: those values are the point here.
pytestmark = [pytest.mark.filterwarnings("ignore:Invalid value for VR:UserWarning"),
              pytest.mark.filterwarnings("ignore:The value length:UserWarning")]


def _header(**values: object) -> Dataset:
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def test_invalid_values_are_emptied_when_type_2_and_left_out_otherwise() -> None:
    ds = _header(PatientAge="81", PatientBirthDate="1995.07.20", AccessionNumber="A" * 17, StudyTime="11:22:07",
                 PatientSex="m", PatientID="PID-1", StudyDate="20240131", StudyInstanceUID="1.2.3")
    changed = drop_invalid_values(ds, keep={"StudyInstanceUID"}, type_2={"PatientBirthDate", "AccessionNumber",
                                                                          "PatientSex", "StudyTime"})
    assert sorted(changed) == ["AccessionNumber", "PatientAge", "PatientBirthDate", "PatientSex", "StudyTime"]
    assert "PatientAge" not in ds  # type 3: out, not guessed ("81" may be days, months or years)
    for keyword in ("PatientBirthDate", "AccessionNumber", "PatientSex", "StudyTime"):
        assert keyword in ds and ds[keyword].value in (None, ""), keyword
    assert (ds.PatientID, ds.StudyDate, ds.StudyInstanceUID) == ("PID-1", "20240131", "1.2.3")


def test_valid_values_and_kept_uids_are_left_alone() -> None:
    ds = _header(PatientAge="081Y", PatientName="Yamada^Taro=山田^太郎", PatientWeight="72.5",
                 OtherPatientIDs=["A", "B"], StudyInstanceUID="1.2.03.x")
    assert drop_invalid_values(ds, keep={"StudyInstanceUID"}, type_2=()) == []
    assert ds.StudyInstanceUID == "1.2.03.x"  # a PACS files our objects by it, valid or not


def test_every_value_of_a_multi_valued_attribute_is_checked() -> None:
    assert is_valid(_header(OtherPatientIDs=["A", "B"])["OtherPatientIDs"])
    assert not is_valid(_header(OtherPatientIDs=["A", "B" * 65])["OtherPatientIDs"])


def test_the_nih_films_age_is_the_only_fault_of_its_header() -> None:
    header = pydicom.dcmread(DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm", stop_before_pixels=True)
    assert drop_invalid_values(header, keep=(), type_2=()) == ["PatientAge"]
