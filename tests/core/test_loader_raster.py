"""Raster loading (PNG, JPEG, BMP, TIFF through Pillow), file-level errors and the shared samples."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tracemalloc
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.loader import load_image, sniff
from pneumo_desktop.core.preprocess import preprocess
from tests.conftest import FILMS_256, SAMPLES
from tests.core.dicom_factory import gradient

SAMPLE_FILES = sorted(SAMPLES.glob("*/*.jpeg"))
needs_samples = pytest.mark.skipif(not SAMPLE_FILES, reason="shared sample images not present")


def _save(img: Image.Image, path: Path, fmt: str, **kwargs: object) -> Path:
    img.save(path, fmt, **kwargs)
    return path


def _assert_valid(image: LoadedImage) -> None:
    assert image.kind == "raster"
    assert image.pixels.dtype == np.float32 and image.pixels.ndim == 2
    assert np.isfinite(image.pixels).all()
    assert image.pixels.min() >= 0.0 and image.pixels.max() <= 1.0
    assert all(isinstance(w, str) for w in image.warnings)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming ``width`` x ``height``, with almost no image data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


# --- bit depths and colour ------------------------------------------------------------------------------


def test_png_8bit_exact(tmp_path: Path) -> None:
    arr = gradient(50, 70, high=255, dtype=np.uint8)
    image = load_image(_save(Image.fromarray(arr), tmp_path / "g8.png", "PNG"))
    _assert_valid(image)
    np.testing.assert_allclose(image.pixels, arr / 255.0, atol=1e-7)
    assert image.warnings == [] and "colourfulness" not in image.metadata
    assert image.file_sha256 == hashlib.sha256((tmp_path / "g8.png").read_bytes()).hexdigest()


def test_png_16bit_full_range_not_clipped(tmp_path: Path) -> None:
    arr = gradient(64, 96, high=65535, dtype=np.uint16)
    image = load_image(_save(Image.fromarray(arr), tmp_path / "g16.png", "PNG"))
    _assert_valid(image)
    np.testing.assert_allclose(image.pixels, arr / 65535.0, atol=1e-6)
    assert len(np.unique(image.pixels)) > 256  # more grey levels than an 8-bit conversion could keep


def test_png_16bit_with_12_significant_bits_scaled_by_4095(tmp_path: Path) -> None:
    arr = gradient(64, 96, high=4095, dtype=np.uint16)
    image = load_image(_save(Image.fromarray(arr), tmp_path / "g12.png", "PNG"))
    np.testing.assert_allclose(image.pixels, arr / 4095.0, atol=1e-6)


def test_float_tiff(tmp_path: Path) -> None:
    arr = gradient(40, 30, low=-50, high=200, dtype=np.float32)
    image = load_image(_save(Image.fromarray(arr, mode="F"), tmp_path / "float.tif", "TIFF"))
    np.testing.assert_allclose(image.pixels, (arr + 50) / 250, atol=1e-6)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "CMYK"])
def test_colour_sources_converted_with_warning_and_colourfulness(tmp_path: Path, mode: str) -> None:
    gray = gradient(60, 60, high=255, dtype=np.uint8)
    colour = np.stack([gray, np.full_like(gray, 30), 255 - gray], axis=-1)
    base = Image.fromarray(colour, "RGB")
    img = base.convert(mode) if mode != "P" else base.quantize(64)
    fmt, suffix = ("TIFF", "tif") if mode == "CMYK" else ("PNG", "png")
    image = load_image(_save(img, tmp_path / f"colour.{suffix}", fmt))
    _assert_valid(image)
    assert any("converted to grayscale" in w for w in image.warnings)
    assert image.metadata["colourfulness"] > 0.3  # well above the gate's limit for radiographs
    if mode == "RGBA":
        assert any("transparency" in w for w in image.warnings)


def test_gray_stored_as_rgb_has_near_zero_colourfulness(tmp_path: Path) -> None:
    gray = gradient(60, 60, high=255, dtype=np.uint8)
    rgb = Image.fromarray(np.stack([gray] * 3, axis=-1))
    image = load_image(_save(rgb, tmp_path / "grey_rgb.png", "PNG"))
    assert image.metadata["colourfulness"] < 0.01
    np.testing.assert_allclose(image.pixels, gray / 255.0, atol=1 / 255)


def test_gray_with_alpha(tmp_path: Path) -> None:
    gray = gradient(40, 40, high=255, dtype=np.uint8)
    img = Image.merge("LA", [Image.fromarray(gray), Image.new("L", (40, 40), 128)])
    image = load_image(_save(img, tmp_path / "la.png", "PNG"))
    np.testing.assert_allclose(image.pixels, gray / 255.0, atol=1e-7)
    assert any("transparency" in w for w in image.warnings)


@pytest.mark.parametrize(("fmt", "suffix"), [("BMP", "bmp"), ("TIFF", "tif"), ("PNG", "png")])
def test_bilevel_and_other_containers(tmp_path: Path, fmt: str, suffix: str) -> None:
    arr = gradient(30, 50, high=255, dtype=np.uint8)
    image = load_image(_save(Image.fromarray(arr), tmp_path / f"g.{suffix}", fmt))
    np.testing.assert_allclose(image.pixels, arr / 255.0, atol=1e-7)
    bilevel = load_image(_save(Image.fromarray(arr).convert("1"), tmp_path / f"b.{suffix}", fmt))
    assert set(np.unique(bilevel.pixels)) <= {0.0, 1.0}


def test_multi_page_tiff_uses_first_page_with_warning(tmp_path: Path) -> None:
    first = gradient(30, 40, high=255, dtype=np.uint8)
    pages = [Image.fromarray(first), Image.fromarray(255 - first)]
    target = tmp_path / "pages.tif"
    pages[0].save(target, "TIFF", save_all=True, append_images=pages[1:])
    image = load_image(target)
    np.testing.assert_allclose(image.pixels, first / 255.0, atol=1e-7)
    assert any("2 images" in w for w in image.warnings)


def test_unsupported_pixel_format(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match=r"pixel format \(LAB\) is not supported"):
        load_image(_save(Image.new("LAB", (16, 16)), tmp_path / "lab.tif", "TIFF"))


def test_exif_orientation_6_is_applied(tmp_path: Path) -> None:
    arr = gradient(40, 64, high=255, dtype=np.uint8)  # 40 rows, 64 columns
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    image = load_image(_save(Image.fromarray(arr), tmp_path / "rotated.jpg", "JPEG", quality=95, exif=exif))
    assert image.shape == (64, 40)
    assert (image.metadata["rows"], image.metadata["columns"]) == (64, 40)
    clockwise = np.rot90(arr, k=-1) / 255.0
    assert np.abs(image.pixels - clockwise).mean() < 0.02
    assert np.abs(image.pixels - np.rot90(arr, k=1) / 255.0).mean() > 0.1


def test_content_sniffed_not_name(tmp_path: Path) -> None:
    arr = gradient(30, 30, high=255, dtype=np.uint8)
    image = load_image(_save(Image.fromarray(arr), tmp_path / "actually_jpeg.png", "JPEG"))
    assert image.metadata["format"] == "JPEG"
    assert sniff(b"GIF89a....") is None


# --- refusals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "suffix"), [("JPEG", "jpg"), ("PNG", "png")])
def test_truncated_files(tmp_path: Path, fmt: str, suffix: str) -> None:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (200, 200), dtype=np.uint8)).save(buf, fmt)
    target = tmp_path / f"cut.{suffix}"
    target.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageLoadError) as info:
        load_image(target)
    assert info.value.reason.startswith(f"truncated {fmt}")
    assert info.value.filename == target.name


def test_truncated_images_are_not_silently_accepted() -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty file"):
        load_image(tmp_path / "empty.png")


def test_random_bytes(tmp_path: Path) -> None:
    (tmp_path / "noise.jpg").write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(ImageLoadError, match="not an image or DICOM file"):
        load_image(tmp_path / "noise.jpg")


def test_huge_header_refused_without_allocating(tmp_path: Path) -> None:
    (tmp_path / "bomb.png").write_bytes(_png_header_only(60000, 60000))
    tracemalloc.start()
    try:
        with pytest.raises(ImageLoadError, match="image too large: 60000×60000"):
            load_image(tmp_path / "bomb.png")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20


def test_pillow_bomb_warning_never_leaks(tmp_path: Path) -> None:
    # 90 MP is above Pillow's own warning threshold (~89 MP) but under our limit: the file is then simply
    # damaged (no image data), and no Pillow warning may escape.
    (tmp_path / "big.png").write_bytes(_png_header_only(10000, 9000))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageLoadError, match="PNG"):
            load_image(tmp_path / "big.png")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="file not found"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _save(Image.new("L", (8, 8)), tmp_path / "locked.png", "PNG")
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        target.chmod(0)
    else:  # root reads anything: simulate the operating system's refusal instead

        real_open = os.open

        def refuse(path: object, *args: object, **kwargs: object) -> int:
            if os.fspath(path) == os.fspath(target):  # type: ignore[arg-type]
                raise PermissionError(13, "Permission denied")
            return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(ImageLoadError, match="cannot read file: permission denied"):
        load_image(target)


def test_input_folder_is_not_written(tmp_path: Path) -> None:
    _save(Image.fromarray(gradient(30, 30, high=255, dtype=np.uint8)), tmp_path / "a.jpg", "JPEG")
    before = sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir())
    load_image(tmp_path / "a.jpg", draft_size=8)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir()) == before


def _pixel_count(path: Path) -> int:
    with Image.open(path) as img:
        return img.width * img.height


# --- the shared full-resolution samples -----------------------------------------------------------------


@needs_samples
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_samples_load_at_full_resolution(path: Path) -> None:
    image = load_image(path)
    _assert_valid(image)
    with Image.open(path) as reference:
        width, height = reference.size
    assert image.shape == (height, width) and image.warnings == []
    assert image.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@needs_samples
def test_draft_decodes_smaller_with_same_model_input() -> None:
    path = max(SAMPLE_FILES, key=_pixel_count)
    full = load_image(path)
    draft = load_image(path, draft_size=224)
    assert 2 * 224 <= min(draft.shape) < min(full.shape)
    assert np.abs(preprocess(full.pixels) - preprocess(draft.pixels)).mean() < 0.05
    assert (draft.metadata["rows"], draft.metadata["columns"]) == full.shape


def test_draft_size_ignored_for_png(tmp_path: Path) -> None:
    arr = gradient(600, 500, high=255, dtype=np.uint8)
    image = load_image(_save(Image.fromarray(arr), tmp_path / "big.png", "PNG"), draft_size=64)
    assert image.shape == (600, 500)


@needs_samples
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_samples_match_their_256px_copies(path: Path) -> None:
    copy = FILMS_256 / path.parent.name / f"{path.stem}.jpg"
    full, small = preprocess(load_image(path).pixels), preprocess(load_image(copy).pixels)
    assert np.corrcoef(full.ravel(), small.ravel())[0, 1] > 0.99


def test_only_jpegs_may_decode_smaller(tmp_path: Path) -> None:
    from pneumo_desktop.core.loader import may_decode_smaller

    arr = np.zeros((600, 700), dtype=np.uint8)
    jpeg = _save(Image.fromarray(arr), tmp_path / "film.png", "JPEG")  # the bytes decide, not the name
    png = _save(Image.fromarray(arr), tmp_path / "film.jpg", "PNG")
    assert may_decode_smaller(jpeg) and not may_decode_smaller(png)
    assert may_decode_smaller(tmp_path / "missing.dcm")  # unreadable: let the real read report it
