"""One chest study in every transfer syntax a CR/DX archive stores films in, made from the repo's real DICOM
fixtures: J2K lossy and JPEG-LS (RG1, as NEMA published it), JPEG baseline (the Konica CR), and J2K lossless, RLE
and uncompressed encoded here from the NIH DX film (pydicom with pylibjpeg-openjpeg and its own RLE encoder).

Every film is given the same new study, a series of its own and a new SOP Instance UID, so the study can be stored
in a fresh archive next to the originals; the pixel data are left as they are (compressed ones byte for byte).
"""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSNearLossless,
    RLELossless,
    generate_uid,
)

from tests.conftest import DICOM_DIR

# transfer syntax -> (source fixture, whether this module encodes it)
SYNTAXES = {
    JPEG2000: ("cr_mono1_15bit_j2k_lossy.dcm", False),
    JPEG2000Lossless: ("dx_mono2_8bit_implicit_vr_uncompressed.dcm", True),
    JPEGLSNearLossless: ("cr_mono1_15bit_jpegls_near_lossless.dcm", False),
    RLELossless: ("dx_mono2_8bit_implicit_vr_uncompressed.dcm", True),
    JPEGBaseline8Bit: ("cr_mono1_8bit_jpeg_baseline.dcm", False),
    ExplicitVRLittleEndian: ("dx_mono2_8bit_implicit_vr_uncompressed.dcm", True),
}


def chest_study(folder: Path, *, patient_id: str = "SYNTAXES-1") -> tuple[str, dict[str, Path]]:
    """The new study's UID and its films by transfer syntax, written into ``folder``."""
    study_uid = generate_uid()
    films = {}
    for number, (syntax, (source, encode)) in enumerate(SYNTAXES.items(), start=1):
        ds = pydicom.dcmread(DICOM_DIR / source)
        if encode and syntax == ExplicitVRLittleEndian:
            ds.file_meta.TransferSyntaxUID = syntax  # from implicit VR: pydicom writes the same pixels explicit
        elif encode:
            ds.compress(syntax, generate_instance_uid=False)
        _renumber(ds, study_uid, number, patient_id)
        assert str(ds.file_meta.TransferSyntaxUID) == syntax
        path = folder / f"{number}_{syntax}.dcm"
        ds.save_as(path, enforce_file_format=True)
        films[str(syntax)] = path
    return study_uid, films


def _renumber(ds: Dataset, study_uid: str, number: int, patient_id: str) -> None:
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SeriesNumber, ds.InstanceNumber = number, 1
    ds.PatientID, ds.PatientName = patient_id, "Syntaxes^Chest"
