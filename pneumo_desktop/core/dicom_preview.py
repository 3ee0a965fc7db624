"""A half-resolution first look at a JPEG 2000 film, painted while the full decode runs (issue 25 item 9).

JPEG 2000 stores an image as resolution levels; OpenJPEG can stop one level short of the full image, which
takes about a quarter of the work (RG1: 24 ms instead of 63 ms on two cores). The preview goes through the
same modality and VOI stages as the full decode, so it looks the same, only softer, until the full image
replaces it a moment later. It is for the eye only: nothing is scored, measured or exported from it.

Anything unusual (not a raw J2K codestream, signed or over 16-bit samples, several frames, colour, a small
image that decodes fast anyway, any error) gives None: the full decode then reports what is wrong, once.
"""

from __future__ import annotations

import io
import logging
import struct
from pathlib import Path

import numpy as np
from PIL import Image

from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.library_warnings import library_warnings_logged
from pneumo_desktop.core.loader import MAX_FILE_BYTES
from pneumo_desktop.core.regular_file import read_capped, read_head

log = logging.getLogger(__name__)

# Below this many pixels on the short side the full decode is quick enough (a 1k film: ~15 ms).
MIN_SIDE = 1024
_SOC_SIZ = b"\xff\x4f\xff\x51"
_J2K_UID_STEM = b"1.2.840.10008.1.2.4.9"  # .90 lossless, .91 lossy (and .92/.93, refused below)
_HEAD_BYTES = 4096
_SIZ_SSIZ = 42  # offset of the first component's Ssiz (sign bit + bit depth - 1) from the SOC marker


def j2k_preview(path: Path) -> LoadedImage | None:
    """The film at half resolution in [0, 1], MONOCHROME1 already inverted, or None (see the module doc).
    ``metadata`` holds only the full image's "rows" and "columns"."""
    path = Path(path)
    try:
        # Every film shown asks; only a J2K DICOM names a J2K syntax in its first bytes (the file meta). Checked
        # before pydicom is imported, so a folder of JPEGs never pays for that import.
        if _J2K_UID_STEM not in read_head(path, _HEAD_BYTES):
            return None
        # pydicom may warn with header values quoted: to the log, scrubbed, as for the full decode.
        with library_warnings_logged(path.name):
            return _preview(path)
    except Exception as exc:  # noqa: BLE001 - library boundary; the full decode reports the real fault
        log.info("no preview: %s", type(exc).__name__)
        return None


def _preview(path: Path) -> LoadedImage | None:
    import pydicom

    from pneumo_desktop.core.dicom_modality import modality_values
    from pneumo_desktop.core.dicom_window import apply_voi_stage, inverted_presets
    from pneumo_desktop.core.j2k_decode import J2K_SYNTAXES, use_decoder_threads

    ds = pydicom.dcmread(io.BytesIO(read_capped(path, MAX_FILE_BYTES)))
    meta = getattr(ds, "file_meta", None)
    if meta is None or meta.get("TransferSyntaxUID") not in J2K_SYNTAXES:
        return None
    photometric = str(ds.get("PhotometricInterpretation", "")).upper()
    rows, columns = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    if photometric not in ("MONOCHROME1", "MONOCHROME2") or int(ds.get("SamplesPerPixel") or 1) != 1 \
            or int(ds.get("NumberOfFrames") or 1) != 1 or int(ds.get("PixelRepresentation") or 0) != 0 \
            or min(rows, columns) < MIN_SIDE:
        return None
    frame = pydicom.encaps.get_frame(ds.PixelData, 0, number_of_frames=1)
    if not frame.startswith(_SOC_SIZ) or len(frame) <= _SIZ_SSIZ:
        return None  # a JP2 file in the pixel data: rare, and the full decode handles it
    (ssiz,) = struct.unpack_from(">B", frame, _SIZ_SSIZ)
    precision = (ssiz & 0x7F) + 1
    if ssiz & 0x80 or precision > 16:
        return None
    use_decoder_threads()
    with Image.open(io.BytesIO(frame), formats=("JPEG2000",)) as image:
        # One resolution level less: half the rows and columns. The J2K plugin makes "reduce" a settable
        # property over Image.reduce (a method), which the stubs do not know.
        image.reduce = 1  # type: ignore[method-assign,assignment]
        image.load()
        raw = np.asarray(image)
    if raw.shape != ((rows + 1) // 2, (columns + 1) // 2):
        return None
    if raw.dtype == np.uint16 and precision < 16:
        raw = raw >> (16 - precision)  # Pillow scales samples up to 16 bits; the stored values are wanted
    voi = apply_voi_stage(modality_values(raw, ds, path.name), ds)
    pixels, presets = voi.pixels, voi.presets
    if photometric == "MONOCHROME1" or str(ds.get("PresentationLUTShape") or "").upper() == "INVERSE":
        pixels, presets = (1.0 - pixels).astype(np.float32), inverted_presets(presets)
    return LoadedImage(pixels=np.ascontiguousarray(pixels, dtype=np.float32), path=path, kind="dicom",
                       file_sha256="", presets=presets, metadata={"rows": rows, "columns": columns})
