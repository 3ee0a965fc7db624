"""Regression tests for the loader bugs that fuzzing (benchmarks/fuzz_loader.py) found, one per bug, each
on a small handcrafted file that shows it."""

from __future__ import annotations

import io
import logging
import struct
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image, TiffImagePlugin
from pydicom.encaps import encapsulate, get_frame
from pydicom.uid import (
    JPEG2000,
    UID,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.loader import load_image
from tests.core import dicom_factory as factory
from tests.robustness.corpus import _rle_overflowing
from tests.robustness.known_errors import classify


def _save(ds: pydicom.Dataset, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


def _reason(path: Path) -> str:
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    return info.value.reason


# --- a Rust decoder's panic is a BaseException ----------------------------------------------------------


def test_rle_decoder_panic_does_not_escape(tmp_path: Path) -> None:
    target = tmp_path / "rle_overflow.dcm"
    target.write_bytes(_rle_overflowing())
    ds = pydicom.dcmread(target)
    try:
        pydicom.pixels.pixel_array(ds, decoding_plugin="pylibjpeg")
    except Exception:
        pytest.skip("pylibjpeg-rle now raises an ordinary exception here")
    except BaseException as exc:  # what the loader used to let through: `except Exception` misses it
        assert not isinstance(exc, Exception)
    else:
        pytest.skip("pylibjpeg-rle no longer panics on this stream")
    image = load_image(target)  # pydicom's own RLE decoder reads it after the panic
    assert image.shape == (8, 8) and np.isfinite(image.pixels).all()


def test_any_decoder_base_exception_becomes_a_load_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Panic(BaseException):  # stands in for pyo3's PanicException
        pass

    def panicking(*_args: object, **_kwargs: object) -> None:
        raise Panic("index out of bounds")

    target = tmp_path / "rle.dcm"
    target.write_bytes(_rle_overflowing())
    monkeypatch.setattr(pydicom.pixels, "pixel_array", panicking)
    assert classify(_reason(target)) == "dicom_codec"


def test_keyboard_interrupt_still_stops_a_decode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    target = _save(factory.mono2_16bit_rescaled(), tmp_path / "a.dcm")
    monkeypatch.setattr(pydicom.pixels, "pixel_array", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_image(target)


# --- damaged header values ------------------------------------------------------------------------------


def _patched(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1
    return data.replace(old, new)


@pytest.mark.parametrize("syntax", [b"1.2.840.99999.1.2.1\0", b"1.2.84\\1.2.840.10008"])
def test_unknown_or_multi_valued_transfer_syntax(tmp_path: Path, syntax: bytes) -> None:
    # Formerly ValueError("UID is not a transfer syntax") or TypeError (unhashable MultiValue).
    good = _save(factory.mono2_16bit_rescaled(), tmp_path / "good.dcm").read_bytes()
    assert len(syntax) == len(b"1.2.840.10008.1.2.1\0")
    target = tmp_path / "odd_syntax.dcm"
    target.write_bytes(_patched(good, b"1.2.840.10008.1.2.1\0", syntax))
    assert classify(_reason(target)) == "dicom_syntax"


def _odd_length(data: bytes, tag: bytes) -> bytes:
    """Give a 2-byte US element (explicit VR little endian) a 3-byte value: pydicom raises on access."""
    start = data.index(tag + b"US\x02\x00")
    value = data[start + 8:start + 10]
    return data[:start] + tag + b"US\x03\x00" + value + b"\x00" + data[start + 10:]


def test_damaged_optional_value_is_ignored_with_a_note(tmp_path: Path) -> None:
    ds = factory.mono2_16bit_rescaled()
    ds.add_new(0x00280106, "US", 0)  # SmallestImagePixelValue: informative only
    good = _save(ds, tmp_path / "good.dcm")
    target = tmp_path / "odd_value.dcm"
    target.write_bytes(_odd_length(good.read_bytes(), b"\x28\x00\x06\x01"))
    image = load_image(target)
    np.testing.assert_array_equal(image.pixels, load_image(good).pixels)
    assert "damaged DICOM header fields were ignored: SmallestImagePixelValue" in image.warnings


def test_damaged_rows_is_a_clear_error(tmp_path: Path) -> None:
    # Formerly BytesLengthException from deep inside pydicom.
    good = _save(factory.mono2_16bit_rescaled(), tmp_path / "good.dcm").read_bytes()
    target = tmp_path / "odd_rows.dcm"
    target.write_bytes(_odd_length(good, b"\x28\x00\x10\x00"))
    assert classify(_reason(target)) == "dicom_no_size"


# --- slow or process-killing decoders -------------------------------------------------------------------


def test_damaged_jpeg_ls_without_end_marker_is_refused_at_once(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ds = factory.compressed(factory.make_dataset(factory.gradient(48, 40, high=4095), bits_stored=12),
                            JPEGLSLossless)
    frame = get_frame(ds.PixelData, 0, number_of_frames=1).rstrip(b"\0")
    at = int(len(frame) * 0.78)
    # Three bytes inserted into the scan and the end-of-image marker lost: what the fuzzer found.
    ds.PixelData = encapsulate([frame[:at] + b"*\xdaY" + frame[at:-3]])
    target = _save(ds, tmp_path / "damaged.jls.dcm")
    import pydicom.pixels

    def no_decoding(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the damaged stream reached the decoder (CharLS takes ~10 s on it)")

    monkeypatch.setattr(pydicom.pixels, "pixel_array", no_decoding)
    assert classify(_reason(target)) == "dicom_codec"


@pytest.mark.parametrize(("syntax", "plugins"), [
    (JPEGBaseline8Bit, ["pillow"]),
    (JPEG2000Lossless, ["pillow"]),  # OpenJPEG with threads (core.j2k_decode)
    (JPEG2000, ["pillow"]),
    (JPEGLSLossless, ["pyjpegls"]),
    (RLELossless, ["pylibjpeg", "pydicom"]),
    (JPEGLosslessSV1, ["gdcm"]),  # the one syntax nothing else decodes
])
def test_gdcm_only_where_no_other_plugin_decodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 syntax: str, plugins: list[str]) -> None:
    # gdcm aborts the process (uncaught C++ exception) on some damaged streams, so it must not be the
    # fallback after another plugin has already refused a stream.
    from pydicom.pixels import get_decoder

    available = set(get_decoder(syntax).available_plugins)
    if not set(plugins) <= available:
        pytest.skip(f"needs {plugins}, installed: {sorted(available)}")
    tried: list[str] = []

    def refusing(_ds: object, *, index: object = None, decoding_plugin: str = "") -> None:
        tried.append(decoding_plugin)
        raise RuntimeError("refused")

    ds = factory.make_dataset(factory.gradient(8, 8, high=255, dtype=np.uint8))
    ds.file_meta.TransferSyntaxUID = UID(syntax)
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xc0\x00\x00\xff\xd9"])
    target = _save(ds, tmp_path / "compressed.dcm")
    monkeypatch.setattr(pydicom.pixels, "pixel_array", refusing)
    assert classify(_reason(target)) == "dicom_codec"
    assert tried == plugins


# --- library warnings -----------------------------------------------------------------------------------


def _jpeg_with_corrupt_exif() -> bytes:
    # The IFD claims 5 entries and holds less than one.
    exif = b"Exif\0\0II*\0" + struct.pack("<IH", 8, 5) + b"\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00"
    buf = io.BytesIO()
    Image.new("L", (40, 30), 100).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def _tiff_with_dangling_exif_pointer() -> bytes:
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[0x8769] = 10_000  # the EXIF IFD "is" past the end of the file
    buf = io.BytesIO()
    Image.new("L", (40, 30), 100).save(buf, "TIFF", tiffinfo=info, compression="tiff_deflate")
    return buf.getvalue()


@pytest.mark.parametrize(("name", "build"), [("exif.jpg", _jpeg_with_corrupt_exif),
                                             ("exif.tif", _tiff_with_dangling_exif_pointer)])
def test_pillow_warnings_are_logged_not_shown(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                              name: str, build: object) -> None:
    target = tmp_path / name
    target.write_bytes(build())  # type: ignore[operator]
    caplog.set_level(logging.DEBUG, logger="pneumo_desktop")
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        image = load_image(target)
    assert [str(w.message) for w in shown] == []
    assert image.shape == (30, 40) and float(image.pixels.mean()) == pytest.approx(100 / 255, abs=0.01)
    assert any(name in r.getMessage() and "Corrupt EXIF" in r.getMessage() for r in caplog.records)
