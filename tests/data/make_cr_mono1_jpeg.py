"""Writes tests/data/dicom/cr_mono1_8bit_jpeg_baseline.dcm: a MONOCHROME1 CR stored as lossy 8-bit JPEG baseline.

Why it is made and not copied: the real film with these properties (a Konica CR from orthanc-tests) comes from a
GPL-3.0 test suite, and this MIT project does not carry GPL files. This one is derived from the NEMA WG-04 "RG1"
image in this folder (pydicom-data, MIT) and keeps what the tests rely on: MONOCHROME1 at 8 bits, JPEG baseline
with Lossy Image Compression 01, a non-integer stored window wider than the values, pixel spacing 0.175 mm,
UTF-8 character set, PatientName "Patient^Anonymous" and PatientID "12345678", its own study/series/instance UIDs.
Deterministic: run it again and the same bytes come out.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit, generate_uid

HERE = Path(__file__).resolve().parent / "dicom"
SOURCE = HERE / "cr_mono1_15bit_j2k_lossy.dcm"
TARGET = HERE / "cr_mono1_8bit_jpeg_baseline.dcm"


def main() -> None:
    ds = pydicom.dcmread(SOURCE)
    raw = ds.pixel_array.astype(np.float64)
    low, high = np.percentile(raw, [0.1, 99.9])
    # Kept inside 12..240 so the stored window (114.516 / 255.0623) is wider than the values, as in the original.
    pixels = np.clip(12 + (raw - low) / (high - low) * 228, 12, 240).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="JPEG", quality=90, subsampling=0)

    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    for name, entropy in (("StudyInstanceUID", "study"), ("SeriesInstanceUID", "series"), ("SOPInstanceUID", "sop")):
        setattr(ds, name, generate_uid(entropy_srcs=["pneumo_desktop cr_mono1_8bit_jpeg_baseline", entropy]))
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName, ds.PatientID = "Patient^Anonymous", "12345678"
    ds.PatientBirthDate, ds.PatientSex = "", ""
    ds.StudyDate, ds.StudyTime, ds.AccessionNumber = "20170327", "101500", "00000001"
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", 1, 1
    ds.Manufacturer = "pneumo_desktop test fixture (derived from NEMA WG-04 RG1)"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelRepresentation, ds.SamplesPerPixel = 0, 1
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.PixelSpacing = [0.175, 0.175]
    ds.WindowCenter, ds.WindowWidth = "114.516", "255.0623"
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = f"{pixels.nbytes / len(buffer.getvalue()):.3f}"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    for keyword in ("SmallestImagePixelValue", "LargestImagePixelValue", "DerivationDescription"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.PixelData = encapsulate([buffer.getvalue()])
    ds["PixelData"].VR = "OB"
    ds.save_as(TARGET, enforce_file_format=True)
    print(f"wrote {TARGET} ({TARGET.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
