"""Memory and time bounds for DICOM before anything big is allocated or parsed: deflated data sets are inflated
with a byte cap, a compressed frame's own size (JPEG 2000 SIZ, JPEG and JPEG-LS SOF) is read from its first
bytes, and a data set that is nothing but zero bytes is refused before pydicom parses it.

The DICOM header's Rows/Columns are checked elsewhere, but neither pydicom's inflate nor a codec looks at
them: a 1 MB deflated file inflated to 3.7 GB, and an 840-byte JPEG 2000 frame whose codestream claimed
40000x40000 made the codec allocate 3.8 GB, both before any check of ours could run. And pydicom reads zero
bytes as empty elements, 8 bytes at a time: a DICM header followed by 128 MB of zeros took 29 s to parse
(a 1 GiB file, the size limit, about 4 minutes) before "no pixel data".
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import BinaryIO, cast

from pydicom.dataset import FileDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import _read_file_meta_info, read_partial, read_preamble
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.image import MAX_PIXELS

# The largest data set a deflated file may inflate to: the biggest 16-bit image the pixel limit allows,
# plus room for the header. A deflated 32-bit image at the limit is refused; deflate is rare for X-rays.
MAX_INFLATED_BYTES = 2 * MAX_PIXELS + (16 << 20)
_INFLATE_STEP = 16 << 20
# How far into a frame its size marker may sit (JPEG APPn/COM segments come first, but not megabytes).
_HEADER_SCAN = 1 << 16
_J2K_SOC_SIZ = b"\xff\x4f\xff\x51"
# JPEG start-of-frame markers: SOF0-3, 5-7, 9-11, 13-15, and JPEG-LS SOF55 (0xF7).
_SOF_MARKERS = frozenset({*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC} | {0xF7})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
# Zero bytes where data elements should be: each 8 of them parse as one empty element (0000,0000), which no
# file holds. This many in a row (64 KB) end the parse; a real header has its first element at once.
ZERO_RUN_BYTES = 64 << 10
_ZERO_ELEMENTS = ZERO_RUN_BYTES // 8
_PIXEL_DATA_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})  # float, double float, integer


def parse_bounded(stream: BinaryIO, name: str, *, force: bool, stop_before_pixels: bool = False) -> FileDataset:
    """pydicom's dcmread on ``stream`` (a file read into memory), refusing with ImageLoadError a data set that
    is only zero bytes, at its start or after some elements, within ZERO_RUN_BYTES of them. Other parse
    errors are pydicom's own exceptions, as from dcmread."""
    start = stream.tell()
    try:
        read_preamble(stream, force)
        _read_file_meta_info(stream)
        at = stream.tell()
    except Exception:  # library boundary: the full parse below reports a damaged preamble or meta group
        at = start
    stream.seek(at)
    head = stream.read(ZERO_RUN_BYTES)
    # pydicom reads any leading group-0000 elements as a command set, with no way to stop it: check here.
    if len(head) == ZERO_RUN_BYTES and not head.strip(b"\0"):
        raise _only_zeros(name)
    stream.seek(start)
    zeros = 0

    def stop_when(tag: int, vr: str | None, length: int) -> bool:
        nonlocal zeros
        zeros = zeros + 1 if tag == 0 and length == 0 else 0
        return zeros >= _ZERO_ELEMENTS or (stop_before_pixels and tag in _PIXEL_DATA_TAGS)

    ds = read_partial(stream, stop_when, force=force)
    if zeros >= _ZERO_ELEMENTS:
        raise _only_zeros(name)
    return ds


def _only_zeros(name: str) -> ImageLoadError:
    return ImageLoadError(f"the DICOM data set is damaged: it holds only zero bytes where its data elements "
                          f"should be (none in {ZERO_RUN_BYTES >> 10} KB)", name)


def inflated_stream(data: bytes, name: str) -> BinaryIO | None:
    """For a deflated DICOM file (with its DICM header), the same file with the data set inflated (under
    MAX_INFLATED_BYTES) and its file meta saying explicit VR little endian; None for any other file."""
    head = io.BytesIO(data)
    try:
        read_preamble(head, False)
        meta = _read_file_meta_info(head)
        deflated = meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian
    except Exception:  # library boundary: a damaged meta group is reported by the full parse
        return None
    if not deflated:
        return None
    body = _inflate_capped(memoryview(data)[head.tell():], name)
    out = DicomBytesIO()
    out.write(data[:132])
    try:
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        write_file_meta_info(out, meta, enforce_standard=False)
    except Exception as exc:  # library boundary: a meta element pydicom read but cannot write back
        raise ImageLoadError("the DICOM header is damaged and could not be read", name) from exc
    out.write(body)
    del body
    out.seek(0)
    return cast(BinaryIO, out)


def _inflate_capped(deflated: memoryview, name: str) -> bytes:
    """Inflate in 16 MB steps, so a bomb is refused holding at most the cap (one decompress() call with a
    max_length builds its output in blocks and then joins them: twice the cap)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    parts: list[bytes] = []
    total = 0
    pending: bytes | memoryview = deflated
    try:
        while total <= MAX_INFLATED_BYTES:
            part = inflater.decompress(pending, _INFLATE_STEP)
            pending = inflater.unconsumed_tail
            if not part:
                break
            parts.append(part)
            total += len(part)
    except zlib.error as exc:
        raise ImageLoadError("the deflated DICOM data is damaged and could not be read", name) from exc
    if total <= MAX_INFLATED_BYTES and not inflater.eof:  # cut short: pydicom's own inflate raised here
        raise ImageLoadError("the deflated DICOM data is damaged and could not be read", name)
    if total > MAX_INFLATED_BYTES:
        raise ImageLoadError(
            f"the deflated DICOM data set inflates to more than {MAX_INFLATED_BYTES >> 20} MB, more than any "
            "image within the size limit needs (a decompression bomb?)", name)
    return b"".join(parts)


def codestream_size(frame: bytes) -> tuple[int, int] | None:
    """(width, height) that a compressed frame's own header declares, or None when it declares none that
    is readable (the decoder then reports the damage). Handles raw J2K codestreams, JP2 files (the
    codestream box), JPEG and JPEG-LS."""
    head = frame[:_HEADER_SCAN]
    at = head.find(_J2K_SOC_SIZ)
    if at >= 0:
        fields = head[at + 8:at + 24]
        if len(fields) < 16:
            return None
        x, y, x0, y0 = struct.unpack(">IIII", fields)
        return (x - x0, y - y0) if x > x0 and y > y0 else (0, 0)
    if head.startswith(b"\xff\xd8"):
        return _jpeg_sof_size(head)
    return None


def _jpeg_sof_size(head: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(head):
        if head[pos] != 0xFF:
            return None
        marker = head[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        (length,) = struct.unpack(">H", head[pos + 2:pos + 4])
        if marker in _SOF_MARKERS:
            fields = head[pos + 5:pos + 9]
            if len(fields) < 4:
                return None
            height, width = struct.unpack(">HH", fields)
            # Height 0 means "given later in a DNL marker": nothing to check here.
            return (width, height) if height else None
        if marker == 0xDA or length < 2:  # start of scan before any frame header: damaged
            return None
        pos += 2 + length
    return None
