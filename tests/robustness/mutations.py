"""Seed files (small, real formats) and byte-level mutations of them, shared by the hypothesis fuzz test
and benchmarks/fuzz_loader.py so that both check the same property on the same kinds of input.

Seeds are built in memory: a downscaled real sample JPEG (EXIF-rotated), PNGs, a TIFF and a BMP of it, and
small DICOM files from tests/core/dicom_factory in every transfer syntax the loader decodes.
"""

from __future__ import annotations

import functools
import io
import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
)

from tests.conftest import SAMPLES
from tests.core import dicom_factory as factory
from tests.robustness.hostile import bigtiff

SEED_SAMPLE = SAMPLES / "PNEUMONIA" / "person1_virus_6.jpeg"
# Small enough that one load takes milliseconds, big enough to have real JPEG/PNG structure.
SEED_SIDE = 96
_EXIF_ORIENTATION = 0x0112
OPS = ("flip", "byte", "int", "truncate", "insert", "delete", "repeat", "dims", "lut")
_INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x20, 0x2A)
_INTERESTING_INTS = (0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
                     0xFFFFFFFF, 60000)
_HUGE_DIMS = (0, 1, 40000, 0xFFFF, 0x7FFFFFFF)
# Where formats declare an image size: (marker, offset of the first size field, field width, byte order).
# "dims" overwrites both fields, so the size-before-decode checks (issue 13: decompression bombs) are fuzzed
# directly rather than hit by chance.
_SIZE_FIELDS = (
    (b"\xff\x51", 6, 4, ">"),  # JPEG 2000 SIZ: Xsiz, Ysiz
    (b"\xff\xc0", 5, 2, ">"), (b"\xff\xc2", 5, 2, ">"), (b"\xff\xf7", 5, 2, ">"),  # JPEG/JPEG-LS SOF
    (b"IHDR", 4, 4, ">"),  # PNG
    (b"\x28\x00\x10\x00US", 8, 2, "<"),  # DICOM Rows (explicit VR), Columns follows 10 bytes on
)
_LUT_DESCRIPTOR = b"\x28\x00\x02\x30"  # (0028,3002) LUT Descriptor, in a VOI or Modality LUT item
# Mutations land in the first bytes this often: headers are where parsers make decisions.
HEADER_BYTES = 512


@dataclass(frozen=True)
class Mutation:
    op: str  # one of OPS
    pos: int  # taken modulo len(data) + 1, so any integer is valid for any file
    arg: int = 0
    extra: bytes = b""


def apply_mutations(data: bytes, mutations: Sequence[Mutation]) -> bytes:
    buf = bytearray(data)
    for m in mutations:
        pos = m.pos % (len(buf) + 1)
        if m.op == "truncate":
            del buf[pos:]
        elif m.op == "insert":
            buf[pos:pos] = m.extra or b"\x00"
        elif m.op == "delete":
            del buf[pos:pos + 1 + m.arg % 64]
        elif m.op == "repeat":
            buf[pos:pos] = buf[pos:pos + 1 + m.arg % 256]
        elif not buf:
            continue
        elif m.op == "flip":
            buf[pos % len(buf)] ^= 1 << (m.arg % 8)
        elif m.op == "byte":
            buf[pos % len(buf)] = _INTERESTING_BYTES[m.arg % len(_INTERESTING_BYTES)]
        elif m.op == "int":
            value = _INTERESTING_INTS[m.arg % len(_INTERESTING_INTS)]
            width, order = (2, 4)[(m.arg >> 4) % 2], "<>"[(m.arg >> 5) % 2]
            packed = struct.pack(order + ("H" if width == 2 else "I"), value & (0xFFFF if width == 2 else 0xFFFFFFFF))
            buf[pos:pos + width] = packed
        elif m.op == "dims":
            _set_dims(buf, m)
        elif m.op == "lut":
            at = buf.find(_LUT_DESCRIPTOR)
            if at >= 0:
                field = at + 8 + 2 * (m.arg % 3)
                value = _INTERESTING_INTS[(m.arg >> 2) % len(_INTERESTING_INTS)] & 0xFFFF
                buf[field:field + 2] = struct.pack("<H", value)
        else:
            raise ValueError(f"unknown mutation {m.op!r}")
    return bytes(buf)


def _set_dims(buf: bytearray, m: Mutation) -> None:
    present = [(buf.find(marker), offset, width, order) for marker, offset, width, order in _SIZE_FIELDS]
    present = [p for p in present if p[0] >= 0]
    if not present:
        return
    at, offset, width, order = present[m.pos % len(present)]
    value = _HUGE_DIMS[m.arg % len(_HUGE_DIMS)] & (0xFFFF if width == 2 else 0xFFFFFFFF)
    code = order + ("H" if width == 2 else "I")
    second = width if order == ">" else 10  # DICOM Columns is the next element
    buf[at + offset:at + offset + width] = struct.pack(code, value)
    if (m.arg >> 3) % 2:
        buf[at + offset + second:at + offset + second + width] = struct.pack(code, value)


def random_mutations(rng: random.Random) -> list[Mutation]:
    """1-4 mutations, half of them in the first HEADER_BYTES bytes (the benchmark's generator)."""
    count = rng.choices((1, 2, 3, 4), weights=(50, 25, 15, 10))[0]
    out = []
    for _ in range(count):
        pos = rng.randrange(HEADER_BYTES) if rng.random() < 0.5 else rng.randrange(1 << 31)
        extra = rng.randbytes(rng.randint(1, 16))
        out.append(Mutation(rng.choice(OPS), pos, rng.randrange(1 << 16), extra))
    return out


# --- seeds ----------------------------------------------------------------------------------------------


def _sample_gray() -> Image.Image:
    if SEED_SAMPLE.is_file():
        img = Image.open(SEED_SAMPLE).convert("L")
    else:  # the shared data is absent: a synthetic radiograph-like ramp keeps the fuzz test running
        img = Image.fromarray(factory.gradient(300, 400, high=255, dtype=np.uint8))
    img.thumbnail((SEED_SIDE, SEED_SIDE))
    return img


def _encoded(img: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def _dicom_bytes(ds: object, *, file_format: bool = True) -> bytes:
    import pydicom

    buf = io.BytesIO()
    if file_format:
        ds.save_as(buf, enforce_file_format=True)  # type: ignore[attr-defined]
    else:
        bare = pydicom.Dataset()
        bare.update(ds)  # type: ignore[arg-type]
        pydicom.dcmwrite(buf, bare, implicit_vr=True, little_endian=True)
    return buf.getvalue()


def _dicom_jpeg_baseline(img: Image.Image) -> bytes:
    ds = factory.make_dataset(np.asarray(img), WindowCenter=128, WindowWidth=256)
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([_encoded(img, "JPEG", quality=90)])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.LossyImageCompression = "01"
    return _dicom_bytes(ds)


@functools.cache
def seeds() -> dict[str, tuple[str, bytes]]:
    """name -> (file suffix, bytes). Every seed loads successfully (test_fuzz_loader checks that)."""
    gray = _sample_gray()
    exif = Image.Exif()
    exif[_EXIF_ORIENTATION] = 6
    small = factory.gradient(48, 40, high=4095)
    out = {
        "jpeg": (".jpeg", _encoded(gray, "JPEG", quality=85, exif=exif.tobytes())),
        "jpeg_progressive": (".jpg", _encoded(gray.convert("RGB"), "JPEG", quality=80, progressive=True)),
        "png": (".png", _encoded(gray, "PNG")),
        "png16": (".png", _encoded(Image.fromarray(small.astype(np.uint16)), "PNG")),
        "tiff": (".tif", _encoded(gray, "TIFF", compression="tiff_deflate")),
        "bmp": (".bmp", _encoded(gray.resize((24, 20)), "BMP")),
        "dicom": (".dcm", _dicom_bytes(factory.mono2_16bit_rescaled(Rows=48, Columns=40, PixelData=small.tobytes()))),
        "dicom_bare": (".dcm", _dicom_bytes(factory.make_dataset(small, bits_stored=12), file_format=False)),
        "dicom_mono1_voilut": (".dcm", _dicom_bytes(_small_voi_lut())),
        "dicom_rle": (".dcm", _dicom_bytes(factory.compressed(factory.make_dataset(small, bits_stored=12),
                                                              RLELossless))),
        "dicom_jpeg": (".dcm", _dicom_jpeg_baseline(gray)),
        "dicom_j2k": (".dcm", _dicom_bytes(factory.compressed(factory.make_dataset(small, bits_stored=12),
                                                              JPEG2000Lossless))),
        "dicom_jpegls": (".dcm", _dicom_bytes(factory.compressed(factory.make_dataset(small, bits_stored=12),
                                                                 JPEGLSLossless))),
        "dicom_deflated": (".dcm", _dicom_deflated(small)),
        "bigtiff": (".tif", bigtiff()),
    }
    return out


def _dicom_deflated(small: np.ndarray) -> bytes:
    ds = factory.make_dataset(small, bits_stored=12, WindowCenter=2048, WindowWidth=4096)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    return _dicom_bytes(ds)


def _small_voi_lut() -> object:
    ds = factory.voi_lut(PhotometricInterpretation="MONOCHROME1")
    small = factory.gradient(48, 40, high=4095)
    ds.Rows, ds.Columns, ds.PixelData = 48, 40, small.tobytes()
    return ds


SEED_NAMES = (
    "jpeg", "jpeg_progressive", "png", "png16", "tiff", "bmp", "dicom", "dicom_bare", "dicom_mono1_voilut",
    "dicom_rle", "dicom_jpeg", "dicom_j2k", "dicom_jpegls", "dicom_deflated", "bigtiff",
)
