"""A generated corpus of awkward and broken input files, each with the outcome(s) the loader may give.

``build_corpus(root)`` writes every file under ``root`` (a temp folder) and returns the cases. An outcome is
"ok" or a KNOWN_MESSAGES key (tests/robustness/known_errors.py). Most cases allow exactly one outcome;
random damage (bit flips in compressed data) may legitimately decode or not, so those allow a few, but
never an unknown one.

Files that a folder walk cannot take as files (symlink loops) and the oversized sparse file (which the CLI
would hash in full) are written under ``root.parent / "extra"``, outside the CLI's corpus folder.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.uid import JPEG2000Lossless, RLELossless

from pneumo_desktop.core.loader import MAX_FILE_BYTES
from tests.conftest import SAMPLES
from tests.core import dicom_factory as factory

OK = frozenset({"ok"})
_EXIF_ORIENTATION = 0x0112
NAME_MAX = 255  # bytes, on every common Linux/macOS file system


@dataclass(frozen=True)
class Case:
    rel: str  # path relative to the corpus root (str; undecodable bytes as surrogate escapes)
    expect: frozenset[str]  # allowed outcomes: "ok" and/or KNOWN_MESSAGES keys
    what: str  # one line for the docs table
    in_cli_folder: bool = True  # False: under root.parent / "extra"
    unreadable: bool = False  # chmod 000 (emulated when running as root)


def _one(key: str) -> frozenset[str]:
    return frozenset({key})


# --- content builders ------------------------------------------------------------------------------------


def _gray(side: int = 96) -> Image.Image:
    sample = next(iter(sorted(SAMPLES.glob("*/*.jpeg"))), None)
    if sample is not None:
        img = Image.open(sample).convert("L")
    else:  # shared data absent: a synthetic ramp keeps the corpus buildable
        img = Image.fromarray(factory.gradient(300, 400, high=255, dtype=np.uint8))
    img.thumbnail((side, side))
    return img


def _encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming ``width`` x ``height``, with almost no image data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is patched to claim ``width`` x ``height``."""
    data = bytearray(_encode(_gray(32), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def flip(data: bytes, at: int, bit: int = 3) -> bytes:
    out = bytearray(data)
    out[at] ^= 1 << bit
    return bytes(out)


def _dicom(ds: object) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)  # type: ignore[attr-defined]
    return buf.getvalue()


def _bare_dicom() -> bytes:
    import pydicom

    bare = pydicom.Dataset()
    bare.update(factory.mono2_16bit_rescaled())
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, bare, implicit_vr=True, little_endian=True)
    return buf.getvalue()


def _dicom_huge_header() -> bytes:
    ds = factory.make_dataset(factory.gradient(4, 4))
    ds.Rows, ds.Columns = 60000, 60000  # and only 32 bytes of pixel data
    return _dicom(ds)


def _dicom_ybr() -> bytes:
    ds = factory.rgb()
    ds.PhotometricInterpretation = "YBR_FULL"
    return _dicom(ds)


def _rle_overflowing() -> bytes:
    """16-bit RLE whose second segment decodes to more bytes than the frame holds: the Rust decoder in
    pylibjpeg-rle panics (pyo3's PanicException, a BaseException) instead of raising an error."""
    from pydicom.encaps import encapsulate

    ds = factory.compressed(factory.make_dataset(factory.gradient(8, 8, high=4095), bits_stored=12), RLELossless)
    high = b"\xc1\x00"  # one run: 64 copies of 0 (the high bytes of 8 x 8 pixels)
    low = b"\x81\x07" * 2  # two runs of 128 copies of 7: 256 low bytes where 64 fit
    header = struct.pack("<16I", 2, 64, 64 + len(high), *([0] * 13))
    ds.PixelData = encapsulate([header + high + low])
    return _dicom(ds)


def _damaged_j2k() -> bytes:
    ds = factory.compressed(factory.make_dataset(factory.gradient(48, 40, high=4095), bits_stored=12),
                            JPEG2000Lossless)
    data = _dicom(ds)
    return flip(data, len(data) - 200, 5)


def _uncompressed_with_flipped_pixel() -> bytes:
    data = _dicom(factory.mono2_16bit_rescaled())
    return flip(data, len(data) - 100)


# --- the corpus ------------------------------------------------------------------------------------------


def _cases() -> list[tuple[Case, Callable[[], bytes]]]:
    gray = _gray()
    exif = Image.Exif()
    exif[_EXIF_ORIENTATION] = 6
    good_png = _encode(gray, "PNG")
    good_jpeg = _encode(gray, "JPEG", quality=90)
    good_dicom = _dicom(factory.mono2_16bit_rescaled())
    j2k = _dicom(factory.compressed(factory.make_dataset(factory.gradient(48, 40, high=4095), bits_stored=12),
                                    JPEG2000Lossless))
    rng = np.random.default_rng(5)
    long_ascii = "L" * (NAME_MAX - 4) + ".png"
    long_utf8 = "é" * ((NAME_MAX - 4) // 2) + ".png"  # 2 bytes per character
    cases: list[tuple[Case, Callable[[], bytes]]] = [
        # --- raster, good ---
        (Case("gray_8bit.png", OK, "8-bit grayscale PNG"), lambda: good_png),
        (Case("gray_16bit.png", OK, "16-bit grayscale PNG"),
         lambda: _encode(Image.fromarray(factory.gradient(80, 64, high=4095).astype(np.uint16)), "PNG")),
        (Case("rgba.png", OK, "RGBA PNG (transparency ignored)"),
         lambda: _encode(Image.merge("RGBA", [gray, gray, gray, gray.point(lambda v: 255 - v)]), "PNG")),
        (Case("palette.png", OK, "palette (P) PNG"), lambda: _encode(gray.convert("P"), "PNG")),
        (Case("cmyk.jpg", OK, "CMYK JPEG"), lambda: _encode(gray.convert("CMYK"), "JPEG")),
        (Case("exif_rotated.jpg", OK, "JPEG with EXIF orientation 6 (rotated on load)"),
         lambda: _encode(gray, "JPEG", exif=exif.tobytes())),
        (Case("one_pixel.png", OK, "1x1 PNG"), lambda: _encode(Image.new("L", (1, 1), 128), "PNG")),
        (Case("gray.bmp", OK, "BMP"), lambda: _encode(gray, "BMP")),
        (Case("gray_deflate.tif", OK, "TIFF (deflate)"), lambda: _encode(gray, "TIFF", compression="tiff_deflate")),
        (Case("jpeg_named.png", OK, "a JPEG named .png (format sniffed from bytes)"), lambda: good_jpeg),
        # --- raster, bad ---
        (Case("truncated.jpg", _one("raster_truncated"), "JPEG cut in half"),
         lambda: good_jpeg[: len(good_jpeg) // 2]),
        (Case("truncated.png", _one("raster_truncated"), "PNG cut in half"), lambda: good_png[: len(good_png) // 2]),
        (Case("bitflip_header.png", _one("raster_header"), "PNG with a bit flipped in the IHDR chunk (bad CRC)"),
         lambda: flip(good_png, 18)),
        (Case("bitflip_data.png", frozenset({"raster_data", "raster_truncated"}),
              "PNG with a bit flipped in the compressed image data"),
         lambda: flip(good_png, len(good_png) - 40)),
        (Case("bitflip_data.jpg", frozenset({"ok", "raster_data"}),
              "JPEG with a bit flipped in the entropy-coded data (may still decode)"),
         lambda: flip(good_jpeg, len(good_jpeg) - 200)),
        (Case("huge_header.png", _one("too_many_pixels"), "PNG whose IHDR claims 60000x60000"),
         lambda: png_header_only(60000, 60000)),
        (Case("huge_header.jpg", _one("too_many_pixels"), "JPEG whose SOF claims 60000x60000"),
         lambda: jpeg_claiming(60000, 60000)),
        (Case("zero_bytes.png", _one("empty_file"), "zero-byte file"), lambda: b""),
        (Case("random_bytes.jpg", _one("not_an_image"), "4 KB of random bytes named .jpg"),
         lambda: b"\x00" + rng.bytes(4095)),
        # --- DICOM, good ---
        (Case("good.dcm", OK, "16-bit MONOCHROME2 DICOM, rescale + window"), lambda: good_dicom),
        (Case("IM000001", OK, "extensionless DICOM (found by its DICM magic)"), lambda: good_dicom),
        (Case("bare_no_meta.dcm", OK, "bare data set: no preamble, no file meta"), _bare_dicom),
        (Case("one_pixel.dcm", OK, "1x1 DICOM"),
         lambda: _dicom(factory.make_dataset(np.array([[1000]], np.uint16), bits_stored=12))),
        (Case("bitflip_pixels.dcm", OK, "uncompressed DICOM with a bit flipped in the pixels (undetectable)"),
         _uncompressed_with_flipped_pixel),
        # --- DICOM, bad ---
        (Case("truncated_pixels.dcm", _one("dicom_damaged"), "DICOM cut inside its pixel data"),
         lambda: good_dicom[: len(good_dicom) - 4000]),
        # pydicom reads a cut file as far as it goes: no element is left half-read, so "no pixel data".
        (Case("truncated_header.dcm", _one("dicom_no_pixels"), "DICOM cut inside its file meta header"),
         lambda: good_dicom[:150]),
        (Case("bitflip.j2k.dcm", frozenset({"ok", "dicom_codec"}), "JPEG 2000 DICOM with a bit flipped in the codestream"),
         _damaged_j2k),
        (Case("truncated.j2k.dcm", _one("dicom_no_pixels"), "JPEG 2000 DICOM cut inside the codestream"),
         lambda: j2k[: len(j2k) - 300]),
        # The Rust decoder panics; pydicom's own RLE decoder then reads it (the excess is padding to it).
        (Case("rle_overflow.dcm", OK, "RLE DICOM whose segment overflows the frame (pylibjpeg-rle panics)"),
         _rle_overflowing),
        (Case("no_pixel_data.dcm", _one("dicom_no_pixels"), "DICOM header without Pixel Data"),
         lambda: _dicom(factory.make_dataset(None))),
        (Case("rgb.dcm", _one("dicom_colour"), "RGB DICOM"), lambda: _dicom(factory.rgb())),
        (Case("ybr_full.dcm", _one("dicom_colour"), "YBR_FULL DICOM"), _dicom_ybr),
        (Case("huge_header.dcm", _one("too_many_pixels"), "DICOM with Rows/Columns 60000 and 32 bytes of pixels"),
         _dicom_huge_header),
        (Case("text.dcm", _one("not_an_image"), "a text file named .dcm"),
         lambda: b"Patient notes: this is not an image.\n" * 20),
        (Case("zero_bytes.dcm", _one("empty_file"), "zero-byte .dcm"), lambda: b""),
        # --- names and permissions ---
        (Case(os.fsdecode(b"r\xe9sum\xe9_\xff.png"), OK, "non-UTF-8 file name (Latin-1 bytes)"), lambda: good_png),
        (Case(os.fsdecode(b"broken_\xff\xfe.jpg"), _one("raster_truncated"), "non-UTF-8 name on a truncated JPEG"),
         lambda: good_jpeg[: len(good_jpeg) // 2]),
        (Case(long_ascii, OK, "255-byte ASCII file name"), lambda: good_png),
        (Case(long_utf8, OK, f"{len(long_utf8.encode())}-byte UTF-8 file name"), lambda: good_png),
        (Case("deep/er/nested.dcm", OK, "DICOM two folders down"), lambda: good_dicom),
        (Case("locked.png", _one("permission_denied"), "unreadable file (chmod 000; emulated as root)",
              unreadable=True), lambda: good_png),
    ]
    return cases


def build_corpus(root: Path) -> list[Case]:
    """Write the corpus under ``root`` (created) and ``root.parent / "extra"``; return every case."""
    root.mkdir(parents=True, exist_ok=True)
    extra = root.parent / "extra"
    extra.mkdir(exist_ok=True)
    out = []
    for case, content in _cases():
        target = root / case.rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content())
        if case.unreadable:
            target.chmod(0)
        out.append(case)
    # A folder named like an image, with an image in it: the walker descends, the loader refuses the folder.
    (root / "folder.png").mkdir()
    (root / "folder.png" / "inside.png").write_bytes((root / "gray_8bit.png").read_bytes())
    out.append(Case("folder.png/inside.png", OK, "an image inside a folder named folder.png"))
    out.append(Case("folder.png", _one("folder"), "a folder named like an image, given as a file",
                    in_cli_folder=False))
    # Symlinks back up the tree: the walker must visit each folder once and terminate.
    (root / "deep" / "er" / "up").symlink_to("..", target_is_directory=True)
    (root / "deep" / "self").symlink_to(".", target_is_directory=True)
    # A symlink loop between two files: neither is a file, so a folder walk skips them.
    os.symlink("loop_b.png", extra / "loop_a.png")
    os.symlink("loop_a.png", extra / "loop_b.png")
    out.append(Case("../extra/loop_a.png", _one("os_error"), "symlink loop (a -> b -> a)", in_cli_folder=False))
    (extra / "missing.png").unlink(missing_ok=True)
    out.append(Case("../extra/missing.png", _one("not_found"), "a file that does not exist", in_cli_folder=False))
    # Sparse: 1 GiB + 1 byte of nothing, refused from its size before anything is read.
    with open(extra / "too_big.png", "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    out.append(Case("../extra/too_big.png", _one("file_too_large"), "sparse file over 1 GiB", in_cli_folder=False))
    return out
