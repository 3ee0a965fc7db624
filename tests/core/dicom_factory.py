"""Synthetic DICOM files for loader tests, built with pydicom (and gdcm where pydicom has no encoder).

Every builder returns a dataset that a test can tweak before ``write()``; pixel values are chosen so that the
expected loader output can be computed independently in the test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, JPEGLosslessSV1, generate_uid

CR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.1"


def gradient(
    rows: int = 96, cols: int = 80, *, low: int = 0, high: int = 4095, dtype: Any = np.uint16
) -> np.ndarray:
    """A smooth, non-symmetric ramp (so flips and inversions are detectable), plus a bright square."""
    y, x = np.mgrid[0:rows, 0:cols]
    ramp = (0.7 * x / max(cols - 1, 1) + 0.3 * y / max(rows - 1, 1))
    arr = low + ramp * (high - low)
    arr[rows // 4: rows // 2, cols // 4: cols // 2] = high
    return np.round(arr).astype(dtype)


def make_dataset(
    pixels: np.ndarray | None,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    modality: str = "CR",
    **tags: Any,
) -> Dataset:
    """A CR image dataset with file meta (explicit VR little endian) holding ``pixels`` uncompressed.

    ``pixels`` is (rows, cols), (frames, rows, cols) or (rows, cols, 3) for RGB; ``None`` gives a header
    without Pixel Data. Extra keyword arguments become DICOM attributes by keyword.
    """
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CR_IMAGE_STORAGE
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CR_IMAGE_STORAGE
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientName = "Test^Synthetic"
    ds.PatientID = "SYN-001"
    ds.PatientBirthDate = "20190101"
    ds.PatientSex = "F"
    ds.PatientAge = "005Y"
    ds.AccessionNumber = "ACC42"
    ds.InstitutionName = "Test Hospital"
    ds.StudyDate = "20240102"
    ds.ViewPosition = "PA"
    ds.BodyPartExamined = "CHEST"
    ds.PixelSpacing = [0.2, 0.2]
    ds.PhotometricInterpretation = photometric
    if pixels is not None:
        arr = np.ascontiguousarray(pixels)
        colour = photometric not in ("MONOCHROME1", "MONOCHROME2")
        ds.SamplesPerPixel = 3 if colour else 1
        if colour:
            ds.PlanarConfiguration = 0
        frames = arr.shape[0] if (arr.ndim == 3 and not colour) else 1
        if frames > 1:
            ds.NumberOfFrames = frames
        ds.Rows, ds.Columns = (arr.shape[1], arr.shape[2]) if frames > 1 else arr.shape[:2]
        ds.BitsAllocated = arr.dtype.itemsize * 8
        ds.BitsStored = bits_stored or ds.BitsAllocated
        ds.HighBit = ds.BitsStored - 1
        ds.PixelRepresentation = 1 if arr.dtype.kind == "i" else 0
        ds.PixelData = arr.tobytes()
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    return ds


def write(ds: Dataset, path: Path, *, file_format: bool = True) -> Path:
    """Save ``ds``; ``file_format=False`` writes a bare data set (no preamble, no DICM, no file meta)."""
    if file_format:
        ds.save_as(path, enforce_file_format=True)
    else:
        bare = Dataset()
        bare.update(ds)
        pydicom.dcmwrite(path, bare, implicit_vr=True, little_endian=True)
    return path


# --- Builders for the cases the loader must handle ------------------------------------------------------


def mono2_16bit_rescaled(**tags: Any) -> Dataset:
    """12 bits stored, slope 2 / intercept -1000, window in rescaled (modality) units."""
    return make_dataset(
        gradient(high=4095), bits_stored=12, RescaleSlope=2, RescaleIntercept=-1000,
        RescaleType="US", WindowCenter=3095, WindowWidth=8190, **tags,
    )


def voi_lut(**tags: Any) -> Dataset:
    """A VOI LUT Sequence (a gamma curve over 0..4095, 16-bit entries whose values reach 4095 only)."""
    ds = make_dataset(gradient(high=4095), bits_stored=12, **tags)
    item = Dataset()
    entries = 4096
    # Both tags have an ambiguous VR (US/SS, US/OW); state it so pydicom can write them.
    item.add_new("LUTDescriptor", "US", [entries, 0, 16])
    item.LUTExplanation = "gamma 0.5"
    lut = np.round(4095 * np.sqrt(np.arange(entries) / (entries - 1))).astype(int)
    item.add_new("LUTData", "US", [int(v) for v in lut])
    ds.VOILUTSequence = [item]
    return ds


def multi_frame(frames: int = 3) -> Dataset:
    stack = np.stack([gradient(high=1000 * (i + 1)) for i in range(frames)])
    return make_dataset(stack, bits_stored=12)


def rgb() -> Dataset:
    arr = np.zeros((64, 64, 3), np.uint8)
    arr[..., 0] = 200
    arr[..., 1] = gradient(64, 64, high=255, dtype=np.uint8)
    return make_dataset(arr, photometric="RGB")


def compressed(ds: Dataset, transfer_syntax: str, **kwargs: Any) -> Dataset:
    """Re-encode with pydicom's encoders (RLE native, JPEG-LS via pyjpegls, J2K via pylibjpeg-openjpeg)."""
    ds.compress(transfer_syntax, **kwargs)
    return ds


def jpeg_lossless_with_gdcm(source: Path, target: Path) -> Path:
    """JPEG lossless SV1 (process 14): pydicom has no encoder, gdcm does."""
    import gdcm

    reader = gdcm.ImageReader()
    reader.SetFileName(str(source))
    if not reader.Read():
        raise RuntimeError("gdcm could not read the source file")
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
    change.SetInput(reader.GetImage())
    if not change.Change():
        raise RuntimeError("gdcm could not encode JPEG lossless")
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(target))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    if not writer.Write():
        raise RuntimeError("gdcm could not write the target file")
    assert pydicom.dcmread(target).file_meta.TransferSyntaxUID == JPEGLosslessSV1
    return target

