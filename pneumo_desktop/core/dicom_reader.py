"""DICOM files through pydicom 3: decode, modality LUT, VOI, MONOCHROME1 inversion, metadata.

Colour DICOM (RGB, YBR_*, PALETTE COLOR) is refused with a clear error rather than converted: a chest
radiograph is grayscale by definition, and a colour secondary capture is usually a screenshot with burnt-in
annotations that the model has never seen.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import get_frame
from pydicom.pixels import get_decoder
from pydicom.tag import BaseTag
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from pneumo_desktop.core.dicom_bounds import codestream_size, inflated_stream, parse_bounded
from pneumo_desktop.core.dicom_modality import modality_values
from pneumo_desktop.core.dicom_window import apply_voi_stage, inverted_presets
from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.image import LoadedImage, check_pixel_count
from pneumo_desktop.core.j2k_decode import J2K_SYNTAXES, j2k_plugins, use_decoder_threads

log = logging.getLogger(__name__)

GRAYSCALE = ("MONOCHROME1", "MONOCHROME2")
_SUPPORTED_BITS_ALLOCATED = (8, 16, 32)
_LOSSY_SYNTAXES = {JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLSNearLossless}
# Decoding plugins to try, fastest first, for syntaxes with several. Plugins wrapping the same codec
# library (Pillow's and pylibjpeg's openjpeg) are not retried, because a damaged stream fails the same way
# in both, slowly. Syntaxes not listed use pydicom's own order over every installed plugin.
_PLUGIN_ORDER = {
    JPEGBaseline8Bit: ("pillow",),
    JPEGLSLossless: ("pyjpegls",),
    JPEGLSNearLossless: ("pyjpegls",),
    RLELossless: ("pylibjpeg", "pydicom"),
}
# gdcm ends the whole process (an uncaught C++ exception, SIGABRT) on some damaged streams: fuzzing
# ~4,500 damaged JPEG, JPEG 2000 and JPEG-LS files that the first plugin had refused, gdcm aborted 3 times
# and decoded 1. So it is used only for syntaxes no other installed plugin decodes (JPEG lossless).
_LAST_RESORT_PLUGIN = "gdcm"
_JPEG_LS = {JPEGLSLossless, JPEGLSNearLossless}
_JPEG_EOI = b"\xff\xd9"
# Real headers nest a few levels (a structured report's content tree perhaps ten); this is far beyond.
MAX_SEQUENCE_DEPTH = 32
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
_AGE = re.compile(r"^\s*(\d{1,3})\s*([DWMY]?)\s*$", re.IGNORECASE)
_AGE_UNIT_YEARS = {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1.0, "": 1.0}


def read_dicom(data: bytes, path: Path, sha256: str, *, has_magic: bool = True) -> LoadedImage:
    """Decode a DICOM file already read into ``data``; ``has_magic=False`` for bare ACR-NEMA-style files."""
    name = path.name
    ds = _parse(data, name, has_magic)
    notes: list[str] = []
    dropped = _drop_unreadable(ds, name)
    if dropped:
        shown = ", ".join(dropped[:5]) + (f" and {len(dropped) - 5} more" if len(dropped) > 5 else "")
        notes.append(f"damaged DICOM header fields were ignored: {shown}")
    if not has_magic:
        notes.append("the file has no DICOM file header; it was read as a bare data set")
    metadata = dicom_metadata(ds)
    photometric = _check_supported(ds, name, notes)
    metadata["photometric"] = photometric
    raw = _decode_first_frame(ds, name, notes)
    values = modality_values(raw, ds, name)
    del raw
    voi = apply_voi_stage(values, ds)
    notes.extend(voi.warnings)
    pixels, presets = voi.pixels, voi.presets
    # PresentationLUTShape INVERSE asks for the same thing MONOCHROME1 implies (low values white);
    # DX files routinely carry both, so they are not two inversions.
    if photometric == "MONOCHROME1" or str(ds.get("PresentationLUTShape") or "").upper() == "INVERSE":
        pixels, presets = (1.0 - pixels).astype(np.float32), inverted_presets(presets)
    metadata["voi"] = voi.source
    return LoadedImage(
        pixels=np.ascontiguousarray(pixels, dtype=np.float32), path=path, kind="dicom", file_sha256=sha256,
        metadata=metadata, warnings=notes, presets=presets,
    )


def dicom_metadata(ds: Dataset) -> dict[str, Any]:
    """Header fields as plain Python values (str, float, int, bool, tuple or None); names decoded."""
    meta: dict[str, Any] = {
        "patient_name": _text(ds, "PatientName"),
        "patient_id": _text(ds, "PatientID"),
        "issuer_of_patient_id": _text(ds, "IssuerOfPatientID"),  # with patient_id: which patient (a prior's check)
        "birth_date": _text(ds, "PatientBirthDate"),
        "sex": _text(ds, "PatientSex"),
        "age": _text(ds, "PatientAge"),
        "accession_number": _text(ds, "AccessionNumber"),
        "institution": _text(ds, "InstitutionName"),
        "study_date": _text(ds, "StudyDate"),
        "study_time": _text(ds, "StudyTime"),
        "modality": _text(ds, "Modality"),
        "view_position": _text(ds, "ViewPosition"),
        "body_part": _text(ds, "BodyPartExamined"),
        # What a reader tells two films of one study apart by (the study list names received films so).
        "series_number": _int(ds, "SeriesNumber"),
        "instance_number": _int(ds, "InstanceNumber"),
        "pixel_spacing": _spacing(ds),
        "photometric": _text(ds, "PhotometricInterpretation"),
        "transfer_syntax": _uid_name(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)),
        "bits_stored": _int(ds, "BitsStored"),
        "sop_class": _uid_name(ds.get("SOPClassUID")),
        "rows": _int(ds, "Rows"),
        "columns": _int(ds, "Columns"),
        "window_center": _number_or_tuple(ds.get("WindowCenter")),
        "window_width": _number_or_tuple(ds.get("WindowWidth")),
    }
    meta["age_years"] = _age_years(meta["age"])
    lossy = _text(ds, "LossyImageCompression")
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    meta["lossy_compression"] = lossy == "01" or (lossy is None and syntax in _LOSSY_SYNTAXES)
    frames = _int(ds, "NumberOfFrames") or 1
    meta["number_of_frames"] = frames
    return meta


def _parse(data: bytes, name: str, has_magic: bool) -> Dataset:
    # pydicom would inflate a deflated data set whole, however big: inflate it ourselves, with a cap.
    inflated = inflated_stream(data, name) if has_magic else None
    try:
        ds = parse_bounded(inflated or io.BytesIO(data), name, force=not has_magic)
    except ImageLoadError:
        raise
    except Exception as exc:  # library boundary: pydicom raises many types on damaged headers
        log.info("%s: DICOM header unreadable: %s", name, exc)
        raise ImageLoadError("the DICOM header is damaged and could not be read", name) from exc
    if inflated is not None:
        ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian  # what the file says, for display
    meta = getattr(ds, "file_meta", None)
    if meta is None or "TransferSyntaxUID" not in meta:
        # pydicom recognised the encoding while parsing the bare data set; record it so pixel decoding
        # (which needs a transfer syntax) works, as pydicom's documentation recommends.
        implicit, little = getattr(ds, "original_encoding", (True, True))
        syntax = ImplicitVRLittleEndian if implicit else (
            ExplicitVRLittleEndian if little in (True, None) else ExplicitVRBigEndian)
        ds.file_meta = meta if meta is not None else FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = syntax
    syntax = ds.file_meta.get("TransferSyntaxUID")
    if not isinstance(syntax, str) or not UID(syntax).is_transfer_syntax:
        log.info("%s: unknown transfer syntax %r", name, syntax)
        raise ImageLoadError("the DICOM file declares an unknown transfer syntax, so its pixel data cannot be "
                             "read", name)
    return ds


def _drop_unreadable(ds: Dataset, name: str) -> list[str]:
    """Convert every element now and drop those whose value is damaged; returns their keywords.

    pydicom converts raw values lazily, on first access, and raises there (wrong length for the VR...), so
    without this any later ``ds.get`` could raise. A dropped element then reads as absent, and the checks
    below explain what is missing. The walk is iterative and refuses sequences nested deeper than
    MAX_SEQUENCE_DEPTH: a file nesting 10,000 levels (each of defined length, so pydicom parses it lazily and
    happily) made a recursive walk end in a RecursionError that depended on how deep the caller's stack was.
    """
    dropped: list[str] = []
    stack: list[tuple[Dataset, Iterator[BaseTag], int]] = [(ds, iter(list(ds.keys())), 0)]
    while stack:
        current, tags, depth = stack[-1]
        tag = next(tags, None)
        if tag is None:
            stack.pop()
            continue
        try:
            elem = current[tag]
            items = list(elem.value) if elem.VR == "SQ" else []
        except Exception as exc:  # library boundary: pydicom raises many types on damaged values
            log.info("%s: DICOM element %s unreadable, ignored: %s", name, tag, exc)
            dropped.append(keyword_for_tag(tag) or str(tag))
            del current[tag]
            continue
        if items and depth >= MAX_SEQUENCE_DEPTH:
            raise ImageLoadError(f"the DICOM header nests sequences more than {MAX_SEQUENCE_DEPTH} levels deep, "
                                 "which no image needs: the file is damaged", name)
        # Pushed last to first, so the first item is walked first and the keywords keep the file's order.
        stack.extend((item, iter(list(item.keys())), depth + 1) for item in reversed(items))
    return dropped


def _check_supported(ds: Dataset, name: str, notes: list[str]) -> str:
    if "PixelData" not in ds:
        if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
            raise ImageLoadError("floating-point DICOM pixel data is not supported", name)
        if is_dicomdir(ds):
            raise ImageLoadError("this is a DICOMDIR (the index of a DICOM disc or folder), not an image: open "
                                 "its folder to read the films it lists", name)
        raise ImageLoadError("DICOM has no pixel data", name)
    rows, columns = _int(ds, "Rows"), _int(ds, "Columns")
    if rows is None or columns is None:
        raise ImageLoadError("the DICOM header does not state the image size (Rows/Columns)", name)
    check_pixel_count(columns, rows, name)
    photometric = (_text(ds, "PhotometricInterpretation") or "").upper()
    if not photometric:
        notes.append(
            "the DICOM header does not state the photometric interpretation; MONOCHROME2 was assumed"
        )
        photometric = "MONOCHROME2"
        ds.PhotometricInterpretation = photometric
    samples = _int(ds, "SamplesPerPixel") or 1
    if photometric in GRAYSCALE and samples != 1:
        raise ImageLoadError(
            f"the DICOM header is inconsistent: it says {photometric} (grayscale, one sample per pixel) but "
            f"{samples} samples per pixel, so the pixel data cannot be read", name)
    if photometric not in GRAYSCALE:
        raise ImageLoadError(
            f"colour DICOM images ({photometric}) are not supported: a chest radiograph must be grayscale "
            "(MONOCHROME1 or MONOCHROME2)",
            name,
        )
    allocated = _int(ds, "BitsAllocated")
    if allocated not in _SUPPORTED_BITS_ALLOCATED:
        raise ImageLoadError(f"DICOM pixel data with {allocated} bits per pixel is not supported", name)
    frames = _int(ds, "NumberOfFrames") or 1
    if frames > 1:
        notes.append(f"the DICOM file holds {frames} frames; only the first is shown and analysed")
    return photometric


def is_dicomdir(ds: Dataset) -> bool:
    """Whether ``ds`` is a DICOMDIR (Media Storage Directory): a list of the files in a File-set, no image."""
    meta = getattr(ds, "file_meta", None)
    sop_class = meta.get("MediaStorageSOPClassUID") if meta is not None else None
    return sop_class == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds


def _decode_first_frame(ds: Dataset, name: str, notes: list[str]) -> np.ndarray:
    syntax = _syntax(ds)
    frames = _int(ds, "NumberOfFrames") or 1
    index = 0 if frames > 1 else None
    attempts = [""]  # pydicom's own decoder for native (uncompressed) data
    if syntax.is_compressed:
        try:
            decoder = get_decoder(syntax)
        except NotImplementedError:  # pydicom knows no decoder at all for this syntax (e.g. MPEG video)
            decoder = None
        if decoder is None or not decoder.is_available:
            raise ImageLoadError(
                f"compressed DICOM pixel data could not be decoded ({syntax.name}): no decoder is installed "
                "for this compression", name)
        plugins = list(decoder.available_plugins)
        preferred = j2k_plugins(_int(ds, "BitsStored")) if syntax in J2K_SYNTAXES else _PLUGIN_ORDER.get(syntax)
        ordered = [p for p in preferred or plugins if p in plugins] or plugins
        if syntax in J2K_SYNTAXES:
            use_decoder_threads()
        attempts = [p for p in ordered if p != _LAST_RESORT_PLUGIN] or ordered
        frame = _frame(ds, index or 0, frames)
        _check_codestream_size(frame, ds, name)
        if syntax in _JPEG_LS and frame is not None and _JPEG_EOI not in frame:
            # CharLS refuses such a stream anyway, but only after ~10 s when its data is also damaged.
            raise ImageLoadError(f"compressed DICOM pixel data could not be decoded ({syntax.name})", name)
    failure: BaseException | None = None
    for plugin in attempts:
        try:
            arr = pydicom.pixels.pixel_array(ds, index=index, decoding_plugin=plugin)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # library boundary: decoders raise RuntimeError/ValueError/... on bad
            # data, and the Rust RLE decoder panics with pyo3's PanicException, which is a BaseException.
            log.info("%s: decoding with %r failed: %s", name, plugin or "any plugin", exc)
            failure = exc
            continue
        return _first_2d(arr, name)
    if syntax.is_compressed:
        message = f"compressed DICOM pixel data could not be decoded ({syntax.name})"
        raise ImageLoadError(message, name) from failure
    raise ImageLoadError("the DICOM pixel data is incomplete or damaged", name) from failure


def _frame(ds: Dataset, index: int, frames: int) -> bytes | None:
    try:
        return get_frame(ds.PixelData, index, number_of_frames=frames)
    except Exception:  # library boundary: damaged encapsulation; the decoder reports it (quickly)
        return None


def _check_codestream_size(frame: bytes | None, ds: Dataset, name: str) -> None:
    """Codecs allocate what the compressed stream itself declares, whatever the DICOM header says."""
    size = codestream_size(frame) if frame is not None and _syntax(ds) != RLELossless else None
    if size is None:
        return
    width, height = size
    check_pixel_count(width, height, name)
    rows, columns = _int(ds, "Rows"), _int(ds, "Columns")
    if (width, height) != (columns, rows):
        raise ImageLoadError(
            f"the compressed image is {width}×{height} pixels but the DICOM header says {columns}×{rows}: "
            "the file is damaged", name)


def _first_2d(arr: np.ndarray, name: str) -> np.ndarray:
    # Some writers omit NumberOfFrames on stacks; pydicom then returns 3-D anyway.
    while arr.ndim > 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise ImageLoadError(f"the DICOM pixel data has an unexpected shape {arr.shape}", name)
    return arr


def _syntax(ds: Dataset) -> UID:
    return UID(ds.file_meta.TransferSyntaxUID)


def _text(ds: Dataset, keyword: str) -> str | None:
    try:
        value = ds.get(keyword)
        text = str(value).strip() if value is not None else ""
    except Exception as exc:  # library boundary: undecodable character sets, malformed values
        log.info("DICOM tag %s unreadable: %s", keyword, exc)
        return None
    return text.replace("\x00", "") or None


def _int(ds: Dataset, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _spacing(ds: Dataset) -> tuple[float, float] | None:
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        try:
            values = tuple(float(v) for v in ds.get(keyword) or ())
        except (TypeError, ValueError):
            continue
        if len(values) == 2 and all(np.isfinite(v) and v > 0 for v in values):
            return (values[0], values[1])
    return None


def _uid_name(value: object) -> str | None:
    if not value:
        return None
    uid = UID(str(value))
    return uid.name if uid.is_valid else str(value)


def _number_or_tuple(value: object) -> float | tuple[float, ...] | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str | bytes):
            return float(value)
        numbers = tuple(float(v) for v in value)  # type: ignore[attr-defined]
    except TypeError:
        return float(value)  # type: ignore[arg-type]
    except ValueError:
        return None
    return numbers[0] if len(numbers) == 1 else numbers


def _age_years(age: str | None) -> float | None:
    match = _AGE.match(age or "")
    if not match:
        return None
    return round(int(match.group(1)) * _AGE_UNIT_YEARS[match.group(2).upper()], 3)
