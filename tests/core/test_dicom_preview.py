"""The half-resolution first look at a JPEG 2000 film (issue 25 item 9): the full decode's pixels, softer."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.uid import JPEG2000Lossless

from pneumo_desktop.core.dicom_preview import j2k_preview
from pneumo_desktop.core.loader import load_image
from tests.conftest import DICOM_DIR, SAMPLES
from tests.core import dicom_factory as factory

RG1 = DICOM_DIR / "cr_mono1_15bit_j2k_lossy.dcm"


def test_rg1_preview_is_the_full_image_at_half_resolution() -> None:
    preview = j2k_preview(RG1)
    assert preview is not None
    full = load_image(RG1)
    rows, columns = full.shape
    assert preview.shape == ((rows + 1) // 2, (columns + 1) // 2)
    assert preview.metadata == {"rows": rows, "columns": columns}
    # Same modality, VOI and MONOCHROME1 stages: the same picture, not a negative or another window.
    difference = np.abs(full.pixels[::2, ::2] - preview.pixels)
    assert difference.mean() < 0.01 and np.percentile(difference, 99) < 0.05
    assert preview.pixels.dtype == np.float32 and preview.pixels.min() >= 0.0 and preview.pixels.max() <= 1.0


def _j2k_film(folder: Path, side: int) -> Path:
    pixels = factory.gradient(side, side, high=4095)
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint16)).save(buffer, "JPEG2000", irreversible=False, no_jp2=True)
    ds = factory.make_dataset(pixels, bits_stored=12)
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.PixelData = encapsulate([buffer.getvalue()])
    ds["PixelData"].VR = "OB"
    path = folder / f"j2k_{side}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_a_j2k_film_too_small_to_need_one_gets_none(tmp_path: Path) -> None:
    small, large = _j2k_film(tmp_path, 256), _j2k_film(tmp_path, 1024)
    assert j2k_preview(small) is None
    preview = j2k_preview(large)
    assert preview is not None and preview.shape == (512, 512)
    assert pydicom.dcmread(large).file_meta.TransferSyntaxUID == JPEG2000Lossless


def test_other_films_and_files_get_none_without_error() -> None:
    assert j2k_preview(DICOM_DIR / "cr_mono1_8bit_jpeg_baseline.dcm") is None  # not J2K
    assert j2k_preview(DICOM_DIR / "dx_mono1_12bit_j2k_lossless_bad_marker.dcm") is None  # does not decode
    assert j2k_preview(next(SAMPLES.iterdir())) is None  # not DICOM
    assert j2k_preview(DICOM_DIR / "no such file.dcm") is None


def test_asking_for_a_jpegs_preview_does_not_import_pydicom() -> None:
    """The window asks for every film shown; a folder of JPEGs must not pay for pydicom's import (~0.25 s)."""
    import subprocess
    import sys

    jpeg = next(p for p in sorted(SAMPLES.rglob("*")) if p.suffix.lower() in (".jpeg", ".jpg"))
    code = ("import sys; from pathlib import Path; from pneumo_desktop.core.dicom_preview import j2k_preview; "
            f"assert j2k_preview(Path({str(jpeg)!r})) is None; print('pydicom' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
