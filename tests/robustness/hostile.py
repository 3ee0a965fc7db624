"""Hostile inputs, generated (nothing binary is committed): special files, decompression bombs, malformed
LUTs, PHI in invalid header values, misleading formats, and names that attack a terminal or a spreadsheet.

``build_hostile(root)`` writes the corpus folder; each builder is also usable on its own. The bombs are
small on disk (1-2 MB) and stream their payload through zlib, so building them never holds the inflated
size in memory. The benchmark ``benchmarks/hostile_memory.py`` measures peak memory over the same files.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, JPEG2000Lossless

from tests.core import dicom_factory as factory

PHI_NAME = "Doe^Janet"
NAME_MAX = 255
DEFLATE_BOMB_BYTES = 1 << 30  # what the deflate bomb inflates to
BIG_PNG_SIDE = 10_000  # 100 megapixels: exactly at the loader's limit, so it is decoded, not refused


@dataclass(frozen=True)
class Hostile:
    name: str
    what: str
    build: Callable[[Path], None]  # writes the file at the given path


def _dicom_bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _write(data: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(data)

    return write


def _small(**tags: Any) -> Dataset:
    return factory.make_dataset(factory.gradient(64, 48, high=4095), bits_stored=12, **tags)


# --- decompression bombs ---------------------------------------------------------------------------------


def _explicit_le(ds: Dataset) -> bytes:
    """A data set's elements in explicit VR little endian, without preamble or file meta."""
    buf = io.BytesIO()
    bare = Dataset()
    bare.update(ds)
    pydicom.dcmwrite(buf, bare, implicit_vr=False, little_endian=True)
    return buf.getvalue()


def deflate_bomb(path: Path, inflated: int = DEFLATE_BOMB_BYTES) -> None:
    """Deflated explicit VR little endian: a normal 64x48 image behind a private OB element of ``inflated``
    zero bytes, so the file is ~1 MB and its data set ~1 GB."""
    ds = _small()
    low = Dataset()
    high = Dataset()
    for elem in ds:
        (low if elem.tag.group <= 0x0008 else high).add(elem)
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_file_meta_info

    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    head = DicomBytesIO()
    head.write(bytes(128) + b"DICM")
    write_file_meta_info(head, ds.file_meta, enforce_standard=True)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    with open(path, "wb") as fh:
        fh.write(head.getvalue())
        fh.write(packer.compress(_explicit_le(low)))
        fh.write(packer.compress(struct.pack("<HH2sHI", 0x0009, 0x1010, b"OB", 0, inflated)))
        zeros = bytes(1 << 24)
        for _ in range(inflated // len(zeros)):
            fh.write(packer.compress(zeros))
        fh.write(packer.compress(bytes(inflated % len(zeros))))
        fh.write(packer.compress(_explicit_le(high)))
        fh.write(packer.flush())


def _patched_fragment(ds: Dataset, patch: Callable[[bytes], bytes]) -> bytes:
    from pydicom.encaps import encapsulate, get_frame

    ds.PixelData = encapsulate([patch(get_frame(ds.PixelData, 0, number_of_frames=1))])
    return _dicom_bytes(ds)


def j2k_siz_bomb(path: Path, side: int = 40_000) -> None:
    """A real 64x48 JPEG 2000 DICOM whose codestream's SIZ marker claims ``side`` x ``side`` pixels."""
    ds = factory.compressed(_small(), JPEG2000Lossless)

    def patch(stream: bytes) -> bytes:
        siz = stream.index(b"\xff\x51")
        out = bytearray(stream)
        out[siz + 6:siz + 14] = struct.pack(">II", side, side)  # Xsiz, Ysiz
        out[siz + 22:siz + 30] = struct.pack(">II", side, side)  # one tile: XTsiz, YTsiz
        return bytes(out)

    path.write_bytes(_patched_fragment(ds, patch))


def jpeg_sof_bomb(path: Path, side: int = 60_000) -> None:
    """A JPEG baseline DICOM (8-bit) whose SOF0 claims ``side`` x ``side`` while the header says 64x48."""
    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    pixels = factory.gradient(64, 48, high=255, dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG")
    stream = bytearray(buf.getvalue())
    sof = stream.index(b"\xff\xc0")
    stream[sof + 5:sof + 9] = struct.pack(">HH", side, side)
    ds = factory.make_dataset(pixels)
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([bytes(stream)])
    ds["PixelData"].VR = "OB"
    path.write_bytes(_dicom_bytes(ds))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def big_16bit_png(path: Path, side: int = BIG_PNG_SIDE) -> None:
    """A valid 16-bit grayscale PNG of ``side`` x ``side`` (100 MP by default) in ~200 KB: all black but
    one bright row, compressed row by row."""
    ihdr = struct.pack(">IIBBBBB", side, side, 16, 0, 0, 0, 0)
    packer = zlib.compressobj(9)
    dark = b"\0" + bytes(2 * side)
    bright = b"\0" + b"\x0f\xff" * side
    parts = [packer.compress(bright if row == side // 2 else dark) for row in range(side)]
    parts.append(packer.flush())
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr))
        fh.write(_png_chunk(b"IDAT", b"".join(parts)))
        fh.write(_png_chunk(b"IEND", b""))


# --- malformed LUTs and header values ------------------------------------------------------------------


def _with_voi_lut(item: Dataset) -> bytes:
    ds = _small()
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    ds.VOILUTSequence = [item]
    return _dicom_bytes(ds)


def _lut_item(descriptor: list[int] | None, data: list[int] | None) -> Dataset:
    item = Dataset()
    if descriptor is not None:
        item.add_new("LUTDescriptor", "US", descriptor)
    if data is not None:
        item.add_new("LUTData", "US", data)
    return item


BAD_VOI_LUTS: dict[str, Dataset] = {
    "voi_lut_descriptor_zero.dcm": _lut_item([0, 0, 0], list(range(16))),
    "voi_lut_no_descriptor.dcm": _lut_item(None, list(range(16))),
    "voi_lut_empty_item.dcm": _lut_item(None, None),
    "voi_lut_40_bits.dcm": _lut_item([16, 0, 40], list(range(16))),
    "voi_lut_short_data.dcm": _lut_item([4096, 0, 16], list(range(16))),
}


def bad_modality_lut() -> bytes:
    ds = _small()
    item = _lut_item([4096, 0, 16], [1, 2, 3])
    item.ModalityLUTType = "US"
    ds.ModalityLUTSequence = [item]
    return _dicom_bytes(ds)


def huge_rescale() -> bytes:
    return _dicom_bytes(_small(RescaleSlope="1e38", RescaleIntercept=0))


def phi_in_invalid_values() -> bytes:
    """The patient's name where an integer belongs (IS) and an over-long short string (SH): pydicom warns
    about both and quotes the value."""
    ds = _small(InstanceNumber="1234567890", AccessionNumber="A" * 8)
    data = _dicom_bytes(ds)
    data = data.replace(b"1234567890", (PHI_NAME + " ").encode())
    long_sh = (PHI_NAME + "-accession-far-too-long").encode()
    long_sh += b" " * (len(long_sh) % 2)
    tag = struct.pack("<HH2sH", 0x0008, 0x0050, b"SH", 8) + b"A" * 8
    return data.replace(tag, struct.pack("<HH2sH", 0x0008, 0x0050, b"SH", len(long_sh)) + long_sh)


# --- misleading formats ----------------------------------------------------------------------------------


def _tiff(bits: int, sample_format: int, pixels: bytes, width: int, height: int, *, big: bool) -> bytes:
    """A one-strip grayscale TIFF (classic or BigTIFF), little endian."""
    tags = [(256, 4, width), (257, 4, height), (258, 3, bits), (259, 3, 1), (262, 3, 1), (277, 3, 1),
            (278, 4, height), (279, 4, len(pixels)), (339, 3, sample_format), (273, 4, 0)]
    tags.sort()
    if big:
        ifd_at = 16
        ifd_size = 8 + 20 * len(tags) + 8
        data_at = ifd_at + ifd_size
        head = b"II+\x00" + struct.pack("<HHQ", 8, 0, ifd_at)
        body = struct.pack("<Q", len(tags))
        for tag, kind, value in tags:
            value = data_at if tag == 273 else value
            kind = 16 if kind == 4 else kind  # LONG8 for BigTIFF offsets/counts
            body += struct.pack("<HHQQ", tag, kind, 1, value)
        body += struct.pack("<Q", 0)
    else:
        ifd_at = 8
        ifd_size = 2 + 12 * len(tags) + 4
        data_at = ifd_at + ifd_size
        head = b"II*\x00" + struct.pack("<I", ifd_at)
        body = struct.pack("<H", len(tags))
        for tag, kind, value in tags:
            value = data_at if tag == 273 else value
            packed = struct.pack("<H", value) + b"\0\0" if kind == 3 else struct.pack("<I", value)
            body += struct.pack("<HHI", tag, kind, 1) + packed
        body += struct.pack("<I", 0)
    return head + body + pixels


def bigtiff() -> bytes:
    pixels = factory.gradient(48, 64, high=255, dtype=np.uint8)
    return _tiff(8, 1, pixels.tobytes(), 64, 48, big=True)


def float64_tiff() -> bytes:
    pixels = factory.gradient(48, 64, high=1, dtype=np.float64)
    return _tiff(64, 3, pixels.astype("<f8").tobytes(), 64, 48, big=False)


def png_with_dicm_at_128() -> bytes:
    """A valid PNG whose text chunk puts the bytes "DICM" exactly where a DICOM file has its magic."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(factory.gradient(48, 64, high=255, dtype=np.uint8)).save(buf, "PNG")
    png = buf.getvalue()
    ihdr_end = 8 + 25
    # chunk = length(4) + "tEXt"(4) + body: the body starts at ihdr_end + 8.
    keyword = b"Comment\0"
    pad = 128 - (ihdr_end + 8 + len(keyword))
    text = _png_chunk(b"tEXt", keyword + b"x" * pad + b"DICM and more text")
    out = png[:ihdr_end] + text + png[ihdr_end:]
    assert out[128:132] == b"DICM"
    return out


# --- the corpus folder -----------------------------------------------------------------------------------


def hostile_files() -> list[Hostile]:
    files = [
        Hostile("deflate_bomb.dcm", "deflated DICOM, 1 MB inflating to 1 GiB", deflate_bomb),
        Hostile("j2k_siz_bomb.dcm", "JPEG 2000 DICOM whose SIZ claims 40000x40000", j2k_siz_bomb),
        Hostile("jpeg_sof_bomb.dcm", "JPEG DICOM whose SOF claims 60000x60000", jpeg_sof_bomb),
        Hostile("huge_rescale.dcm", "RescaleSlope 1e38", _write(huge_rescale())),
        Hostile("phi_values.dcm", "patient name in an IS value, over-long SH", _write(phi_in_invalid_values())),
        Hostile("bad_modality_lut.dcm", "Modality LUT with 3 entries for 4096", _write(bad_modality_lut())),
        Hostile("bigtiff.tif", "BigTIFF, 8-bit", _write(bigtiff())),
        Hostile("float64.tif", "TIFF of 64-bit floats", _write(float64_tiff())),
        Hostile("dicm_at_128.png", "valid PNG with DICM at byte 128", _write(png_with_dicm_at_128())),
    ]
    files += [Hostile(name, f"VOI LUT: {name[8:-4]}", _write(_with_voi_lut(item))) for name, item in BAD_VOI_LUTS.items()]
    files += [Hostile(f"big16_{i}.png", "16-bit PNG of 100 MP in ~200 KB", big_16bit_png) for i in range(4)]
    return files


def build_hostile(root: Path, *, only: Callable[[Hostile], bool] = lambda h: True) -> list[Hostile]:
    """Write the hostile corpus into ``root`` (created); the 100-MP PNGs are copies of one build."""
    root.mkdir(parents=True, exist_ok=True)
    built = []
    first_png: Path | None = None
    for item in hostile_files():
        if not only(item):
            continue
        target = root / item.name
        if item.build is big_16bit_png and first_png is not None:
            target.write_bytes(first_png.read_bytes())
        else:
            item.build(target)
            if item.build is big_16bit_png:
                first_png = target
        built.append(item)
    return built


def special_files(root: Path) -> dict[str, Path]:
    """A FIFO and a symlink to /dev/zero named like images (POSIX only)."""
    root.mkdir(parents=True, exist_ok=True)
    fifo, zero = root / "x.dcm", root / "zero.dcm"
    os.mkfifo(fifo)
    zero.symlink_to("/dev/zero")
    return {"fifo": fifo, "zero": zero}
