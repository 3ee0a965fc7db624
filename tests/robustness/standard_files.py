"""Files the DICOM standard allows, or nearly (issue 26, items 5-9), generated: a sequence nested 10,000 deep, a
DICOMDIR, a negative or infinite rescale slope, three samples per pixel with MONOCHROME2, and a DICM header
followed by nothing but zero bytes. Each builder writes one file; nothing binary is committed."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.fileset import FileSet

from tests.core import dicom_factory as factory
from tests.robustness.hostile import _dicom_bytes, _explicit_le, _small

_ITEM = struct.pack("<HH", 0xFFFE, 0xE000)
_CONTENT_SEQUENCE = struct.pack("<HH", 0x0040, 0xA730)


def nested_sequence_bytes(depth: int) -> bytes:
    """A Content Sequence holding an item holding a Content Sequence... ``depth`` levels, all of defined
    length (explicit VR little endian), built from the inside out without recursion."""
    inner = b""
    for _ in range(depth):
        item = _ITEM + struct.pack("<I", len(inner)) + inner
        inner = _CONTENT_SEQUENCE + b"SQ\x00\x00" + struct.pack("<I", len(item)) + item
    return inner


def deep_sequence(path: Path, depth: int = 10_000) -> None:
    """A good 64x48 film whose header holds a sequence nested ``depth`` levels deep."""
    ds = _small()
    pixels = Dataset()
    pixels.PixelData = ds.PixelData
    pixels["PixelData"].VR = "OW"
    del ds.PixelData
    path.write_bytes(_dicom_bytes(ds) + nested_sequence_bytes(depth) + _explicit_le(pixels))


def dicomdir_with_films(folder: Path, count: int = 2) -> Path:
    """A DICOM File-set in ``folder``: ``count`` small films and the DICOMDIR that indexes them; returns the
    DICOMDIR's path."""
    fs = FileSet()
    for index in range(count):
        ds = _small(StudyInstanceUID="1.2.3.4", SeriesInstanceUID="1.2.3.4.5", StudyTime="120000", StudyID="1",
                    SeriesNumber=1,
                    InstanceNumber=index + 1)
        fs.add(ds)
    folder.mkdir(parents=True, exist_ok=True)
    fs.write(folder)
    return folder / "DICOMDIR"


def rescale_slope(path: Path, slope: str) -> None:
    """A good film whose RescaleSlope holds the text ``slope`` ("-1", "inf"...)."""
    ds = _small(RescaleIntercept="0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns that "inf" is no valid DS: that is the point
        ds.RescaleSlope = slope
        path.write_bytes(_dicom_bytes(ds))


def three_samples_monochrome(path: Path) -> None:
    """An RGB film whose header says MONOCHROME2 (SamplesPerPixel 3)."""
    ds = factory.rgb()
    ds.PhotometricInterpretation = "MONOCHROME2"
    path.write_bytes(_dicom_bytes(ds))


def zeros_after_header(path: Path, zeros: int = 128 << 20, *, with_meta: bool = True) -> None:
    """A DICM preamble (and file meta, unless ``with_meta`` is False), then ``zeros`` zero bytes (written
    sparse where the file system can)."""
    head = _dicom_bytes(_meta_only(_small())) if with_meta else bytes(128) + b"DICM"
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(len(head) + zeros)


def _meta_only(ds: Dataset) -> Dataset:
    bare = Dataset()
    bare.file_meta = ds.file_meta
    return bare


def zeros_after_elements(path: Path, zeros: int = 16 << 20) -> None:
    """A header with its first elements (no pixel data), then ``zeros`` zero bytes."""
    ds = _small()
    del ds.PixelData
    head = _dicom_bytes(ds)
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(len(head) + zeros)
