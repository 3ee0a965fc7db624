"""Issue 13: hostile files, special files and faults. Each class gets one clear message per file, the rest of
the batch goes on, nothing hangs, memory stays bounded, and nothing is written where it must not be.

The files come from tests/robustness/hostile.py (generated, nothing binary committed); the memory figures
for the same files are printed by benchmarks/hostile_memory.py.
"""

from __future__ import annotations

import json
import os
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from pneumo_desktop import launcher
from pneumo_desktop.core.collect import collect_inputs
from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.hashing import sha256_file
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.read_ahead import loaded_batches
from pneumo_desktop.core.records import read_csv, terminal_text
from tests.robustness import hostile
from tests.robustness.known_errors import classify

POSIX = os.name == "posix"
# Guards against a hang, not a speed target: a FIFO blocked open() forever before issue 13.
HANG_GUARD_S = 60.0


def _load_reason(path: Path) -> str:
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert info.value.filename == path.name
    return info.value.reason


def _finishes(call: Callable[[], object]) -> object:
    """Run ``call`` in a daemon thread; fail (instead of hanging the suite) if it never returns."""
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_GUARD_S)
    assert not thread.is_alive(), "hung"
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out.get("value")


# --- 1. special files ---------------------------------------------------------------------------------


@pytest.fixture()
def specials(tmp_path: Path) -> dict[str, Path]:
    if not POSIX:
        pytest.skip("FIFOs and /dev/zero are POSIX")
    return hostile.special_files(tmp_path / "special")


def test_a_fifo_and_a_device_are_refused_without_reading(specials: dict[str, Path]) -> None:
    fifo = _finishes(lambda: _load_reason(specials["fifo"]))
    assert fifo == "this is a named pipe (FIFO), not an image file (only regular files are read)"
    assert classify(str(fifo)) == "not_regular"
    zero = _finishes(lambda: _load_reason(specials["zero"]))  # a symlink to /dev/zero: followed, refused
    assert zero == "this is a character device, not an image file (only regular files are read)"
    for path in specials.values():
        with pytest.raises(OSError):
            _finishes(lambda p=path: sha256_file(p))  # type: ignore[misc]


def test_cli_gives_a_fifo_a_record_and_names_special_files_in_a_walk(
    specials: dict[str, Path], tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    code = _finishes(lambda: launcher.main(["predict", str(specials["fifo"]), "--format", "jsonl"]))
    out, err = capfd.readouterr()
    assert code == 1
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert record["error"] == "x.dcm: this is a named pipe (FIFO), not an image file (only regular files are read)"
    assert record["file_sha256"] is None  # not hashed either
    folder = specials["fifo"].parent
    collected = collect_inputs([folder])
    assert collected.files == [] and sorted(p.name for p, _ in collected.special) == ["x.dcm", "zero.dcm"]
    code = _finishes(lambda: launcher.main(["predict", str(folder), "--format", "jsonl"]))
    _, err = capfd.readouterr()
    assert code == 2  # no image files
    assert "x.dcm: skipped: this is a named pipe (FIFO), not a regular file" in err
    assert "zero.dcm: skipped: this is a character device, not a regular file" in err
    assert "Traceback" not in err


# --- 2. decompression bombs and memory bounds ---------------------------------------------------------


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bombs")
    hostile.build_hostile(root, only=lambda h: "bomb" in h.name)
    return root


def test_deflate_bomb_is_refused_within_its_cap(bombs: Path) -> None:
    tracemalloc.start()
    try:
        reason = _load_reason(bombs / "deflate_bomb.dcm")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert classify(reason) == "dicom_deflate_bomb", reason
    # pydicom alone inflated all 1 GiB (2.6 GB peak with its copies); the cap is ~206 MB, held once.
    assert peak < 300 * 2**20


def test_codestream_sizes_are_checked_before_decoding(bombs: Path) -> None:
    assert _load_reason(bombs / "j2k_siz_bomb.dcm") == "image too large: 40000×40000 pixels (the limit is 100 megapixels)"
    assert _load_reason(bombs / "jpeg_sof_bomb.dcm") == "image too large: 60000×60000 pixels (the limit is 100 megapixels)"


def test_small_deflated_dicom_still_loads(tmp_path: Path) -> None:
    from tests.robustness.mutations import seeds

    target = tmp_path / "deflated.dcm"
    target.write_bytes(seeds()["dicom_deflated"][1])
    image = load_image(target)
    assert image.shape == (48, 40) and image.metadata["transfer_syntax"] == "Deflated Explicit VR Little Endian"


def test_a_100_megapixel_16_bit_png_decodes_in_float32_without_wide_copies(tmp_path: Path) -> None:
    target = tmp_path / "big.png"
    hostile.big_16bit_png(target)
    assert target.stat().st_size < 400_000
    tracemalloc.start()
    try:
        image = load_image(target)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert image.pixels.dtype == np.float32 and image.shape == (10_000, 10_000)
    assert float(image.pixels.max()) == pytest.approx(1.0)  # 0x0fff in 12 bits is white
    # int64 + float64 copies took 2 GB of numpy memory; float32 alone is 400 MB, plus the 200 MB array.
    assert peak < 700 * 2**20


def test_batch_holds_decoded_images_by_bytes_not_by_count() -> None:
    """Sixteen 100-MP images in a batch of 16 would be 6.4 GB: the batch closes and read-ahead stops."""
    image_bytes = 40 << 20
    alive: dict[str, int] = {"now": 0, "max": 0}
    lock = threading.Lock()

    def read(path: Path) -> LoadedImage:
        pixels = np.zeros(image_bytes // 4, np.float32).reshape(-1, 1024)
        with lock:
            alive["now"] += 1
            alive["max"] = max(alive["max"], alive["now"])

        import weakref

        def gone() -> None:
            with lock:
                alive["now"] -= 1

        weakref.finalize(pixels, gone)
        return LoadedImage(pixels, path, "raster", "0" * 64)

    files = [Path(f"big{i}.png") for i in range(12)]
    sizes = []
    for chunk, loaded in loaded_batches(files, 16, read, 1, lambda: False, max_bytes=100 << 20):
        sizes.append(len(loaded))
        assert [p.name for p in chunk] == [im.path.name for im in loaded]
        del loaded
    assert sum(sizes) == 12 and max(sizes) <= 2  # closes at half the budget (50 MB): 2 x 40 MB at most
    assert alive["max"] <= 3  # the batch plus at most one read ahead, never a batch of 16


# --- 3. malformed LUTs through report -----------------------------------------------------------------


@pytest.fixture(scope="module")
def header_cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("headers")
    hostile.build_hostile(root, only=lambda h: h.name.endswith((".dcm", ".tif", ".png")) and "bomb" not in h.name
                          and not h.name.startswith("big16"))
    return root


@pytest.mark.parametrize("name", sorted(hostile.BAD_VOI_LUTS))
def test_report_on_a_damaged_voi_lut_uses_the_stored_window_and_says_so(
    name: str, header_cases: Path, tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    code = launcher.main(["report", str(header_cases / name), "-o", str(tmp_path / "r.pdf")])
    _, err = capfd.readouterr()
    assert code == 0 and (tmp_path / "r.pdf").stat().st_size > 0
    assert "Traceback" not in err and "unexpected" not in err
    image = load_image(header_cases / name)
    assert image.metadata["voi"] == "window"
    assert any(w.startswith("the DICOM VOI LUT is damaged (") and w.endswith("the stored display window was used")
               for w in image.warnings), image.warnings


def test_report_on_a_damaged_modality_lut_gives_one_specific_message(
    header_cases: Path, tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    code = launcher.main(["report", str(header_cases / "bad_modality_lut.dcm"), "-o", str(tmp_path / "r.pdf")])
    _, err = capfd.readouterr()
    assert code == 1 and not (tmp_path / "r.pdf").exists()
    assert err.strip() == ("pneumo-desktop: bad_modality_lut.dcm: the DICOM Modality LUT is damaged (it holds 3 "
                           "entries where its descriptor states 4096), so the pixel values cannot be interpreted")


# --- 4. library noise and PHI on stderr ---------------------------------------------------------------


def test_no_library_noise_or_phi_reaches_stderr(header_cases: Path, tiny_model_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    code = launcher.main(["report", str(header_cases / "phi_values.dcm"), "-o", str(tmp_path / "r.pdf"),
                          "--hide-phi"])
    _, err = capfd.readouterr()
    assert code == 0
    assert "Doe" not in err and "Janet" not in err and "Warning" not in err, err
    assert _load_reason(header_cases / "huge_rescale.dcm") == (
        "the DICOM rescale (slope 1e+38, intercept 0) takes the pixel values out of range")
    _, err = capfd.readouterr()
    assert "RuntimeWarning" not in err and "overflow" not in err


# --- 5. a report never overwrites its input ----------------------------------------------------------


def test_report_onto_its_own_input_is_refused_even_with_force(
    header_cases: Path, tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    source = tmp_path / "in" / "chest.dcm"
    source.parent.mkdir()
    source.write_bytes((header_cases / "phi_values.dcm").read_bytes())
    before = source.read_bytes()
    os.link(source, tmp_path / "hardlink.dcm")
    for target in (source, tmp_path / "in" / ".." / "in" / "chest.dcm", tmp_path / "hardlink.dcm"):
        assert launcher.main(["report", str(source), "-o", str(target), "--force"]) == 2
        _, err = capfd.readouterr()
        assert "is an input of this report; a report never overwrites its input" in err
    assert launcher.main(["report", str(source.parent), "-o", str(source), "--force"]) == 2  # batch too
    assert source.read_bytes() == before


# --- 6. over-long names -------------------------------------------------------------------------------


def test_over_long_names_get_one_record_each(tiny_model_dir: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    long_name = str(tmp_path / ("n" * 300 + ".png"))
    long_path = str(tmp_path / "/".join(["d" * 200] * 25) / "x.png")  # > 4096 bytes
    code = launcher.main(["predict", long_name, long_path, "--format", "jsonl"])
    out, err = capfd.readouterr()
    assert code == 1 and "Traceback" not in err
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 2
    assert records[0]["error"].endswith(": cannot read file: its name is too long (304 bytes; the limit is 255)")
    assert "its name is too long" in records[1]["error"] or "its path is too long" in records[1]["error"]
    assert long_path not in err  # the full path is never quoted
    source = tmp_path / "ok.png"
    source.write_bytes(b"not an image, and never read: the output is refused first")
    code = launcher.main(["report", str(source), "-o", str(tmp_path / ("r" * 300 + ".pdf"))])
    _, err = capfd.readouterr()
    assert code == 2 and "Traceback" not in err
    assert "the report's name is too long (304 bytes; the limit is 255)" in err


# --- 7. and 8. terminal- and spreadsheet-hostile names -----------------------------------------------


def test_control_characters_in_names_never_reach_the_terminal_raw(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
) -> None:
    if not POSIX:
        pytest.skip("newlines and ESC in file names are POSIX")
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    folder = tmp_path / "names"
    folder.mkdir()
    forged = folder / "a.png\npneumo-desktop: 0 scored, 0 failed.png"
    escape = folder / "b\x1b[2J\x1b]0;owned\x07.png"
    for target in (forged, escape):
        target.write_bytes(b"not an image")
    code = launcher.main(["predict", str(folder)])
    out, err = capfd.readouterr()
    assert code == 1
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "a.png\\npneumo-desktop: 0 scored" in out + err
    assert not any(line.startswith("pneumo-desktop: 0 scored, 0 failed") for line in (out + err).splitlines())
    assert len(out.splitlines()) == 3  # header and one line per file
    assert terminal_text("x\x1b]0;t\x07\u202e") == "x\\x1b]0;t\\x07\\u202e"


def test_csv_cells_that_look_like_formulas_are_neutralised(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    folder = tmp_path / "sheet"
    folder.mkdir()
    for name in ("=1+1.jpeg", "+cmd.png", "@sum.png", "-2.png"):
        (folder / name).write_bytes(b"not an image")
    monkeypatch.chdir(folder)
    names = ["=1+1.jpeg", "+cmd.png", "@sum.png", "-2.png"]
    launcher.main(["predict", "--format", "csv", "--", *names])
    out, _ = capfd.readouterr()
    import csv
    import io

    rows = list(csv.reader(io.StringIO(out)))[1:]
    assert [row[0] for row in rows] == ["'" + name for name in names]
    for cell in (cell for row in rows for cell in row):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    back = read_csv(io.StringIO(out))
    assert [r["path"] for r in back] == names  # read_csv undoes the escape
    assert [r["error"].split(": ", 1)[0] for r in back] == names


# --- 10. misleading messages ---------------------------------------------------------------------------


def test_formats_are_named_for_what_they_are(header_cases: Path) -> None:
    assert load_image(header_cases / "bigtiff.tif").shape == (48, 64)
    assert _load_reason(header_cases / "float64.tif") == "TIFF images of 64-bit floating-point numbers are not supported"
    png = load_image(header_cases / "dicm_at_128.png")  # "DICM" at byte 128 by chance
    assert png.kind == "raster" and png.shape == (48, 64)
