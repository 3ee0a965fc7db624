"""Issue 26, items 5-9: files the DICOM standard allows, or nearly. Each gets one clear message (no traceback, no
"unexpected"), through the loader, the scoring path of ``predict`` (read on a worker thread, where a deeper
stack once turned a deep sequence into a RecursionError) and ``report``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from pneumo_desktop import launcher
from pneumo_desktop.core.collect import collect_inputs
from pneumo_desktop.core.dicom_reader import MAX_SEQUENCE_DEPTH
from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.loader import load_image
from tests.core import dicom_factory as factory
from tests.robustness import standard_files
from tests.robustness.known_errors import classify


@pytest.fixture(autouse=True)
def _tiny_model(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))


def _reason(path: Path) -> str:
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert classify(info.value.reason) is not None, info.value.reason
    return info.value.reason


def _predict(capfd: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, list[dict], str]:
    code = launcher.main(["predict", *map(str, paths), "--format", "jsonl"])
    out, err = capfd.readouterr()
    assert "Traceback" not in err and "unexpected" not in err, err
    return code, [json.loads(line) for line in out.splitlines()], err


# --- 5. a sequence nested 10,000 deep ------------------------------------------------------------------------


def test_a_sequence_nested_10000_deep_gets_one_clear_message_everywhere(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.dcm"
    standard_files.deep_sequence(deep)
    expected = (f"the DICOM header nests sequences more than {MAX_SEQUENCE_DEPTH} levels deep, which no image "
                "needs: the file is damaged")
    assert _reason(deep) == expected
    code, (record,), _ = _predict(capfd, deep)
    assert code == 1 and record["error"] == f"deep.dcm: {expected}"
    code = launcher.main(["report", str(deep), "-o", str(tmp_path / "r.pdf")])
    _, err = capfd.readouterr()
    assert code == 1 and err.strip() == f"pneumo-desktop: deep.dcm: {expected}"


def test_a_header_nested_to_the_limit_still_loads(tmp_path: Path) -> None:
    ok = tmp_path / "ok.dcm"
    standard_files.deep_sequence(ok, depth=MAX_SEQUENCE_DEPTH)
    assert load_image(ok).shape == (64, 48)
    standard_files.deep_sequence(ok, depth=MAX_SEQUENCE_DEPTH + 1)
    assert "nests sequences" in _reason(ok)


# --- 6. a DICOMDIR -----------------------------------------------------------------------------------------


def test_a_dicomdir_named_explicitly_reads_the_films_of_its_folder(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    dicomdir = standard_files.dicomdir_with_films(tmp_path / "disc", count=2)
    collected = collect_inputs([dicomdir])
    assert collected.dicomdirs == [dicomdir] and collected.folders == [dicomdir.parent]
    assert len(collected.files) == 2 and dicomdir not in collected.files
    code, records, err = _predict(capfd, dicomdir)
    assert code == 0 and len(records) == 2 and all(r["error"] is None for r in records)
    assert "DICOMDIR: a DICOMDIR is an index, not an image" in err


def test_a_dicomdir_under_another_name_is_explained_by_the_loader_and_skipped_by_a_walk(tmp_path: Path) -> None:
    dicomdir = standard_files.dicomdir_with_films(tmp_path / "disc", count=1)
    renamed = tmp_path / "disc" / "INDEX"
    dicomdir.rename(renamed)
    assert _reason(renamed) == ("this is a DICOMDIR (the index of a DICOM disc or folder), not an image: open its "
                                "folder to read the films it lists")
    walked = collect_inputs([tmp_path / "disc"])
    assert renamed not in walked.files and len(walked.files) == 1


# --- 7. a negative or infinite rescale slope -----------------------------------------------------------------


def test_a_negative_rescale_slope_is_refused_not_scored_as_a_negative(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    negative = tmp_path / "negative.dcm"
    ds = factory.make_dataset(factory.gradient(512, 448, high=4095), bits_stored=12, RescaleIntercept="4095")
    ds.RescaleSlope = "-1"
    factory.write(ds, negative)
    assert _reason(negative) == ("the DICOM rescale slope is negative (-1): it would show the film as its own "
                                 "negative, so the file was not read")
    code, (record,), _ = _predict(capfd, negative)
    assert code == 1 and record["probability"] is None


@pytest.mark.parametrize("text", ["inf", "-inf", "nan"])
def test_a_non_finite_slope_is_reported_as_the_file_writes_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "slope.dcm"
    standard_files.rescale_slope(path, text)
    assert _reason(path) == f"the DICOM rescale (slope {text}, intercept 0) takes the pixel values out of range"


# --- 8. SamplesPerPixel 3 with MONOCHROME2 ---------------------------------------------------------------------


def test_three_samples_with_a_grayscale_photometric_is_called_inconsistent(tmp_path: Path) -> None:
    path = tmp_path / "rgb_mono.dcm"
    standard_files.three_samples_monochrome(path)
    reason = _reason(path)
    assert reason == ("the DICOM header is inconsistent: it says MONOCHROME2 (grayscale, one sample per pixel) but "
                      "3 samples per pixel, so the pixel data cannot be read")
    assert "colour" not in reason


# --- 9. a DICM header followed by zeros --------------------------------------------------------------------


@pytest.mark.parametrize("builder", [
    lambda p: standard_files.zeros_after_header(p, 128 << 20),
    lambda p: standard_files.zeros_after_header(p, 128 << 20, with_meta=False),
    lambda p: standard_files.zeros_after_elements(p, 128 << 20),
], ids=["after-meta", "no-meta", "after-elements"])
def test_a_header_followed_by_128_mb_of_zeros_is_refused_at_once(tmp_path: Path, builder) -> None:
    path = tmp_path / "zeros.dcm"
    builder(path)
    started = time.perf_counter()
    reason = _reason(path)
    elapsed = time.perf_counter() - started
    assert reason == ("the DICOM data set is damaged: it holds only zero bytes where its data elements should be "
                      "(none in 64 KB)")
    # Before: 29 s for pydicom to read 16 million empty elements. Now the read and hash of 128 MB remain.
    assert elapsed < 5.0, elapsed


def test_a_black_film_is_not_mistaken_for_zeros(tmp_path: Path) -> None:
    """Zero pixel values fill the Pixel Data element's value, which the zero check never looks into."""
    path = tmp_path / "black.dcm"
    factory.write(factory.make_dataset(np.zeros((512, 512), np.uint16), bits_stored=12), path)
    assert load_image(path).shape == (512, 512)


def test_the_header_reader_of_a_failed_file_is_bounded_too(tmp_path: Path) -> None:
    """The window reads the tags of a file that failed (core/dicom_header.py): the same zero-byte bound."""
    from pneumo_desktop.core.dicom_header import read_header

    path = tmp_path / "zeros.dcm"
    standard_files.zeros_after_header(path, 128 << 20)
    started = time.perf_counter()
    assert read_header(path) is None
    assert time.perf_counter() - started < 1.0
    dicomdir = standard_files.dicomdir_with_films(tmp_path / "disc", count=1)
    assert read_header(dicomdir) is not None  # an index still shows what it is
