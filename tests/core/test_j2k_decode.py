"""JPEG 2000 films decode with Pillow's OpenJPEG and its threads (issue 25 item 9): the same pixels as before,
faster first paint."""

from __future__ import annotations

import os

import numpy as np
import pytest

from pneumo_desktop.core import dicom_reader, j2k_decode
from pneumo_desktop.core.loader import load_image
from tests.conftest import DICOM_DIR

RG1 = DICOM_DIR / "cr_mono1_15bit_j2k_lossy.dcm"


def test_pillow_for_up_to_16_bits_and_pylibjpeg_above() -> None:
    assert j2k_decode.j2k_plugins(15) == ("pillow",) and j2k_decode.j2k_plugins(None) == ("pillow",)
    assert j2k_decode.j2k_plugins(24) == ("pylibjpeg",)  # Pillow refuses more than 16 bits per sample


def test_a_j2k_film_turns_on_openjpeg_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(j2k_decode.THREADS_VARIABLE, raising=False)
    load_image(RG1)
    assert os.environ[j2k_decode.THREADS_VARIABLE] == str(min(os.cpu_count() or 1, 4))


def test_a_thread_count_the_user_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(j2k_decode.THREADS_VARIABLE, "1")
    assert j2k_decode.use_decoder_threads() == 1
    load_image(RG1)
    assert os.environ[j2k_decode.THREADS_VARIABLE] == "1"


def test_pillow_gives_the_pixels_pylibjpeg_gave(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[str] = []
    real = dicom_reader.pydicom.pixels.pixel_array

    def recording(ds, *, index=None, decoding_plugin: str = ""):  # type: ignore[no-untyped-def]
        tried.append(decoding_plugin)
        return real(ds, index=index, decoding_plugin=decoding_plugin)

    monkeypatch.setattr(dicom_reader.pydicom.pixels, "pixel_array", recording)
    now = load_image(RG1)
    monkeypatch.setattr(dicom_reader, "j2k_plugins", lambda _bits: ("pylibjpeg",))
    before = load_image(RG1)
    assert tried == ["pillow", "pylibjpeg"]
    assert np.array_equal(now.pixels, before.pixels)
