"""DICOM loading: the nine real files in ../shared/data/dicom and synthetic edge cases from dicom_factory."""

from __future__ import annotations

import hashlib
import re
import tracemalloc
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import (
    MPEG2MPML,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

from pneumo_desktop.core.dicom_reader import dicom_metadata
from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.image import METADATA_KEYS, LoadedImage
from pneumo_desktop.core.loader import load_image
from tests.conftest import DICOM_DIR
from tests.core import dicom_factory as factory

# file -> (rows, cols, photometric, warning fragments) when it loads, or the exact failure reason.
REAL_FILES: dict[str, tuple[int, int, str, tuple[str, ...]] | str] = {
    "cr_mono1_10bit_no_file_meta.dcm": (440, 440, "MONOCHROME1", ("no DICOM file header",)),
    "cr_mono2_8bit_jpeg_baseline.dcm": (1024, 1024, "MONOCHROME2", ()),
    "cr_mono1_tag_on_mono2_pixels_jpeg_baseline.dcm": (1024, 1024, "MONOCHROME1", ()),
    "cr_mono1_8bit_jpeg_baseline.dcm": (1955, 1841, "MONOCHROME1", ()),  # made from RG1 (tests/data)
    "cr_mono1_15bit_j2k_lossy.dcm": (1955, 1841, "MONOCHROME1", ()),
    "cr_mono1_15bit_jpegls_near_lossless.dcm": (1955, 1841, "MONOCHROME1", ()),
    "dx_mono2_8bit_implicit_vr_uncompressed.dcm": (1024, 1024, "MONOCHROME2", ()),
    "cr_chest_no_pixel_data.dcm": "DICOM has no pixel data",
    "dx_mono1_12bit_j2k_lossless_bad_marker.dcm":
        "compressed DICOM pixel data could not be decoded (JPEG 2000 Image Compression (Lossless Only))",
}

needs_dicom = pytest.mark.skipif(not DICOM_DIR.is_dir(), reason="shared DICOM test files not present")


@cache
def _real(name: str) -> LoadedImage:
    return load_image(DICOM_DIR / name)


def _assert_valid(image: LoadedImage) -> None:
    assert image.kind == "dicom"
    assert image.pixels.dtype == np.float32 and image.pixels.ndim == 2
    assert np.isfinite(image.pixels).all()
    assert image.pixels.min() >= 0.0 and image.pixels.max() <= 1.0
    assert all(isinstance(w, str) for w in image.warnings)
    # Presets are the extra windows; the applied one is default_window and must not be repeated.
    assert all((p.center, p.width) != (0.5, 1.0) for p in image.presets)


# --- the real files -------------------------------------------------------------------------------------


def test_table_covers_every_real_file() -> None:
    if not DICOM_DIR.is_dir():
        pytest.skip("shared DICOM test files not present")
    assert set(REAL_FILES) == {p.name for p in DICOM_DIR.glob("*.dcm")}


@needs_dicom
@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_file_outcome(name: str) -> None:
    expected = REAL_FILES[name]
    if isinstance(expected, str):
        with pytest.raises(ImageLoadError) as info:
            load_image(DICOM_DIR / name)
        assert info.value.reason == expected
        assert info.value.filename == name and str(DICOM_DIR) not in str(info.value)
        return
    rows, cols, photometric, warning_parts = expected
    image = _real(name)
    _assert_valid(image)
    assert image.shape == (rows, cols)
    assert image.metadata["photometric"] == photometric
    assert len(image.warnings) == len(warning_parts)
    for part, text in zip(warning_parts, image.warnings, strict=True):
        assert part in text
    assert image.file_sha256 == hashlib.sha256((DICOM_DIR / name).read_bytes()).hexdigest()
    assert set(METADATA_KEYS) <= set(image.metadata)
    for key in ("patient_name", "patient_id", "modality", "transfer_syntax"):
        value = image.metadata[key]
        assert value is None or type(value) is str


@needs_dicom
@pytest.mark.parametrize("name", [n for n, v in REAL_FILES.items() if not isinstance(v, str)])
def test_real_file_polarity_follows_photometric(name: str) -> None:
    """Bright means dense: output rises with stored values for MONOCHROME2 and falls for MONOCHROME1."""
    ds = pydicom.dcmread(DICOM_DIR / name, force=True)
    if "TransferSyntaxUID" not in ds.file_meta:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    raw = ds.pixel_array[::8, ::8].astype(np.float64)
    out = _real(name).pixels[::8, ::8].astype(np.float64)
    correlation = np.corrcoef(raw.ravel(), out.ravel())[0, 1]
    if ds.PhotometricInterpretation == "MONOCHROME1":
        assert correlation < -0.9
    else:
        assert correlation > 0.9


@needs_dicom
def test_monochrome1_tag_gives_exact_inverse() -> None:
    normal = _real("cr_mono2_8bit_jpeg_baseline.dcm").pixels
    tagged = _real("cr_mono1_tag_on_mono2_pixels_jpeg_baseline.dcm").pixels
    np.testing.assert_allclose(tagged, 1.0 - normal, atol=1e-6)


@needs_dicom
def test_rg1_j2k_and_jpegls_give_nearly_identical_pixels(tiny_predictor) -> None:
    j2k = _real("cr_mono1_15bit_j2k_lossy.dcm")
    jls = _real("cr_mono1_15bit_jpegls_near_lossless.dcm")
    assert np.abs(j2k.pixels - jls.pixels).mean() < 0.005
    p_j2k = tiny_predictor.predict(j2k, heatmap=False).probability
    p_jls = tiny_predictor.predict(jls, heatmap=False).probability
    assert p_j2k is not None and p_jls is not None
    assert abs(p_j2k - p_jls) <= 0.02


@needs_dicom
def test_real_metadata_values() -> None:
    bare = _real("cr_mono1_10bit_no_file_meta.dcm").metadata
    assert bare["transfer_syntax"] == "Implicit VR Little Endian"
    assert (bare["bits_stored"], bare["window_center"], bare["window_width"]) == (10, 550.0, 1024.0)
    assert bare["lossy_compression"] is False
    konica = _real("cr_mono1_8bit_jpeg_baseline.dcm")
    assert konica.metadata["window_center"] == pytest.approx(114.516)
    assert konica.metadata["window_width"] == pytest.approx(255.0623)
    assert konica.metadata["pixel_spacing"] == pytest.approx((0.175, 0.175))
    assert konica.metadata["lossy_compression"] is True
    rg1 = _real("cr_mono1_15bit_j2k_lossy.dcm").metadata
    assert rg1["pixel_spacing"] is None  # the file says 0 x 0 mm, which is no spacing at all
    assert rg1["sop_class"] == "Computed Radiography Image Storage"
    assert rg1["view_position"] == "PA" and rg1["body_part"] == "CHEST"


@needs_dicom
def test_japanese_patient_name_decodes_to_plain_str() -> None:
    ds = pydicom.dcmread(DICOM_DIR / "cr_chest_no_pixel_data.dcm")
    meta = dicom_metadata(ds)
    assert type(meta["patient_name"]) is str
    assert "やまだ" in meta["patient_name"] and "\x1b" not in meta["patient_name"]


@needs_dicom
@pytest.mark.parametrize("name", ["cr_mono1_15bit_j2k_lossy.dcm", "cr_mono1_8bit_jpeg_baseline.dcm"])
def test_automatic_preset_spans_the_displayed_percentiles(name: str) -> None:
    # Both stored windows are wider than the values, so the 0.5-99.5 % window fits inside the pixels and
    # must land on the percentiles of what is displayed (inversion included).
    image = _real(name)
    (auto,) = [p for p in image.presets if p.name.startswith("Automatic")]
    low, high = np.percentile(image.pixels, [0.5, 99.5])
    assert auto.center - auto.width / 2 == pytest.approx(low, abs=0.005)
    assert auto.center + auto.width / 2 == pytest.approx(high, abs=0.005)


# --- synthetic files ------------------------------------------------------------------------------------


def _linear_window(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """PS3.3 C.11.2.1.2.1, written out independently of the reader."""
    return np.clip((values - (center - 0.5)) / (width - 1) + 0.5, 0.0, 1.0)


def test_16bit_rescale_and_window(tmp_path: Path) -> None:
    ds = factory.mono2_16bit_rescaled()
    image = load_image(factory.write(ds, tmp_path / "rescaled.dcm"))
    _assert_valid(image)
    expected = _linear_window(factory.gradient(high=4095) * 2.0 - 1000.0, 3095, 8190)
    np.testing.assert_allclose(image.pixels, expected, atol=1e-5)
    meta = image.metadata
    assert meta["bits_stored"] == 12 and (meta["rows"], meta["columns"]) == (96, 80)
    assert meta["age"] == "005Y" and meta["age_years"] == 5.0
    assert meta["patient_name"] == "Test^Synthetic" and meta["pixel_spacing"] == (0.2, 0.2)
    assert meta["lossy_compression"] is False and meta["voi"] == "window"


def test_multi_valued_and_non_integer_windows(tmp_path: Path) -> None:
    ds = factory.make_dataset(
        factory.gradient(), bits_stored=12, WindowCenter=[2047.5, 1000.25], WindowWidth=[4095.5, 500.5],
        WindowCenterWidthExplanation=["WIDE", "NARROW"],
    )
    image = load_image(factory.write(ds, tmp_path / "two_windows.dcm"))
    np.testing.assert_allclose(image.pixels, _linear_window(factory.gradient().astype(float), 2047.5, 4095.5),
                               atol=1e-5)
    assert image.metadata["window_center"] == (2047.5, 1000.25)
    presets = {p.name: p for p in image.presets}
    assert image.presets[0].name == "NARROW" and "WIDE" not in presets  # WIDE is the applied default
    assert presets["NARROW"].center == pytest.approx((1000.25 - 2047.5) / 4095.5 + 0.5)
    assert presets["NARROW"].width == pytest.approx(500.5 / 4095.5)


def test_no_window_uses_percentile_window(tmp_path: Path) -> None:
    arr = factory.gradient(low=100, high=3000)
    image = load_image(factory.write(factory.make_dataset(arr, bits_stored=12), tmp_path / "auto.dcm"))
    low, high = np.percentile(arr, [0.5, 99.5])
    np.testing.assert_allclose(image.pixels, np.clip((arr - low) / (high - low), 0, 1), atol=1e-5)
    assert image.metadata["voi"] == "auto"


def test_window_that_misses_the_pixels_falls_back_with_warning(tmp_path: Path) -> None:
    ds = factory.make_dataset(factory.gradient(high=1000), bits_stored=12, WindowCenter=40000, WindowWidth=10)
    image = load_image(factory.write(ds, tmp_path / "bad_window.dcm"))
    assert image.metadata["voi"] == "auto" and image.pixels.std() > 0.1
    assert any("does not match the pixel values" in w for w in image.warnings)


@pytest.mark.parametrize(
    "extra", [{"PhotometricInterpretation": "MONOCHROME1"}, {"PresentationLUTShape": "INVERSE"}]
)
def test_inverting_tags_give_exact_inverse(tmp_path: Path, extra: dict[str, str]) -> None:
    plain = load_image(factory.write(factory.mono2_16bit_rescaled(), tmp_path / "plain.dcm"))
    inverted = load_image(factory.write(factory.mono2_16bit_rescaled(**extra), tmp_path / "inverted.dcm"))
    np.testing.assert_allclose(inverted.pixels, 1.0 - plain.pixels, atol=1e-6)


def test_monochrome1_with_inverse_shape_is_not_inverted_twice(tmp_path: Path) -> None:
    mono1 = factory.mono2_16bit_rescaled(PhotometricInterpretation="MONOCHROME1")
    both = factory.mono2_16bit_rescaled(
        PhotometricInterpretation="MONOCHROME1", PresentationLUTShape="INVERSE"
    )
    a = load_image(factory.write(mono1, tmp_path / "mono1.dcm"))
    b = load_image(factory.write(both, tmp_path / "mono1_inverse.dcm"))
    np.testing.assert_array_equal(a.pixels, b.pixels)


def test_voi_lut_sequence(tmp_path: Path) -> None:
    ds = factory.voi_lut(WindowCenter=100, WindowWidth=50)  # the LUT takes precedence over the window
    image = load_image(factory.write(ds, tmp_path / "voi_lut.dcm"))
    lut = np.asarray(ds.VOILUTSequence[0].LUTData, dtype=np.float64)
    np.testing.assert_allclose(image.pixels, lut[factory.gradient(high=4095)] / lut.max(), atol=1e-6)
    assert image.metadata["voi"] == "lut"


def test_multi_frame_uses_first_frame_with_warning(tmp_path: Path) -> None:
    multi = load_image(factory.write(factory.multi_frame(3), tmp_path / "multi.dcm"))
    single_ds = factory.make_dataset(factory.gradient(high=1000), bits_stored=12)
    single = load_image(factory.write(single_ds, tmp_path / "single.dcm"))
    np.testing.assert_array_equal(multi.pixels, single.pixels)
    assert any("3 frames" in w for w in multi.warnings)
    assert multi.metadata["number_of_frames"] == 3


@pytest.mark.parametrize("syntax", [RLELossless, JPEGLSLossless, JPEG2000Lossless, "gdcm-jpeg-lossless"])
def test_lossless_compression_matches_uncompressed(tmp_path: Path, syntax: str) -> None:
    reference = load_image(factory.write(factory.mono2_16bit_rescaled(), tmp_path / "plain.dcm"))
    if syntax == "gdcm-jpeg-lossless":
        pytest.importorskip("gdcm", reason="python-gdcm is the only JPEG lossless (process 14) encoder")
        target = factory.jpeg_lossless_with_gdcm(tmp_path / "plain.dcm", tmp_path / "jpeg_lossless.dcm")
    else:
        ds = factory.compressed(factory.mono2_16bit_rescaled(), syntax)
        target = factory.write(ds, tmp_path / "compressed.dcm")
    image = load_image(target)
    assert image.metadata["transfer_syntax"] == pydicom.dcmread(target).file_meta.TransferSyntaxUID.name
    np.testing.assert_allclose(image.pixels, reference.pixels, atol=1e-6)


def test_damaged_compressed_stream_is_a_clear_error(tmp_path: Path) -> None:
    ds = factory.compressed(factory.mono2_16bit_rescaled(), JPEG2000Lossless)
    frame = next(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1))
    ds.PixelData = pydicom.encaps.encapsulate([frame[: len(frame) // 3]])  # codestream cut short
    with pytest.raises(ImageLoadError, match=re.escape("could not be decoded (JPEG 2000 Image Compression")):
        load_image(factory.write(ds, tmp_path / "damaged.dcm"))


def test_syntax_without_any_decoder(tmp_path: Path) -> None:
    ds = factory.mono2_16bit_rescaled()
    ds.file_meta.TransferSyntaxUID = MPEG2MPML
    ds.PixelData = pydicom.encaps.encapsulate([b"\x00" * 64])
    ds["PixelData"].VR = "OB"
    with pytest.raises(ImageLoadError, match="no decoder is installed"):
        load_image(factory.write(ds, tmp_path / "video.dcm"))


@pytest.mark.parametrize("photometric", ["RGB", "YBR_FULL"])
def test_colour_photometric_is_refused(tmp_path: Path, photometric: str) -> None:
    ds = factory.rgb()
    ds.PhotometricInterpretation = photometric
    with pytest.raises(ImageLoadError, match=f"colour DICOM images \\({photometric}\\) are not supported"):
        load_image(factory.write(ds, tmp_path / "colour.dcm"))


def test_missing_photometric_assumes_monochrome2(tmp_path: Path) -> None:
    ds = factory.mono2_16bit_rescaled()
    del ds.PhotometricInterpretation
    image = load_image(factory.write(ds, tmp_path / "no_photometric.dcm"))
    assert image.metadata["photometric"] == "MONOCHROME2"
    assert any("MONOCHROME2 was assumed" in w for w in image.warnings)


def test_no_pixel_data(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="DICOM has no pixel data"):
        load_image(factory.write(factory.make_dataset(None), tmp_path / "header_only.dcm"))


def test_truncated_uncompressed_pixel_data(tmp_path: Path) -> None:
    ds = factory.mono2_16bit_rescaled()
    ds.PixelData = ds.PixelData[: len(ds.PixelData) // 2]
    with pytest.raises(ImageLoadError, match="pixel data is incomplete or damaged"):
        load_image(factory.write(ds, tmp_path / "short.dcm"))


def test_huge_declared_size_refused_before_decoding(tmp_path: Path) -> None:
    ds = factory.mono2_16bit_rescaled()
    ds.Rows, ds.Columns = 60000, 60000
    target = factory.write(ds, tmp_path / "bomb.dcm")
    tracemalloc.start()
    try:
        with pytest.raises(ImageLoadError, match="image too large: 60000×60000"):
            load_image(target)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20  # refused from the header: nothing near 60000² pixels was allocated


def test_text_named_dcm_is_not_dicom(tmp_path: Path) -> None:
    target = tmp_path / "notes.dcm"
    target.write_text("Patient notes: this is not an image.\n" * 20)
    with pytest.raises(ImageLoadError, match="not an image or DICOM file"):
        load_image(target)


def test_extensionless_dicom_loads(tmp_path: Path) -> None:
    image = load_image(factory.write(factory.mono2_16bit_rescaled(), tmp_path / "IM000001"))
    assert image.kind == "dicom" and image.warnings == []


@pytest.mark.parametrize("filename", ["bare.dcm", "BARE0001"])
def test_bare_data_set_without_file_meta(tmp_path: Path, filename: str) -> None:
    reference = load_image(factory.write(factory.mono2_16bit_rescaled(), tmp_path / "with_meta.dcm"))
    bare = factory.write(factory.mono2_16bit_rescaled(), tmp_path / filename, file_format=False)
    assert bare.read_bytes()[128:132] != b"DICM"
    image = load_image(bare)
    np.testing.assert_allclose(image.pixels, reference.pixels, atol=1e-6)
    assert image.metadata["transfer_syntax"] == "Implicit VR Little Endian"
    assert any("no DICOM file header" in w for w in image.warnings)


def test_library_warnings_do_not_leak(tmp_path: Path) -> None:
    ds = factory.mono2_16bit_rescaled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns here too; the loader is what is under test
        # Invalid values that pydicom warns about again when it reads them back.
        ds.PatientAge = "five years"
        ds.StudyDate = "2024-13-45"
        target = factory.write(ds, tmp_path / "odd_values.dcm")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = load_image(target)
    assert image.metadata["age"] == "five years" and image.metadata["age_years"] is None


def test_input_folder_is_not_written(tmp_path: Path) -> None:
    factory.write(factory.mono2_16bit_rescaled(), tmp_path / "a.dcm")
    before = sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir())
    load_image(tmp_path / "a.dcm")
    assert sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir()) == before
