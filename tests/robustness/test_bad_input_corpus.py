"""Every file of a generated bad-input corpus (tests/robustness/corpus.py) gives a correct image or the
loader's specific message for what is wrong with it; the CLI gives every file a record, prints no traceback
and writes nothing into the input tree."""

from __future__ import annotations

import builtins
import errno
import json
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pneumo_desktop import launcher
from pneumo_desktop.core.collect import collect_inputs
from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.records import display_text
from tests.robustness.corpus import Case, build_corpus
from tests.robustness.known_errors import classify, load_outcome

# Header checks come before any decoding, so even a 60000x60000 claim is refused before its pixels exist.
HEADER_REFUSAL_BYTES = 20 * 2**20


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Case]]:
    root = tmp_path_factory.mktemp("bad_inputs") / "corpus"
    return root, build_corpus(root)


@pytest.fixture()
def unreadable(corpus: tuple[Path, list[Case]], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The chmod-000 files refuse to open. Root reads them anyway (permission bits do not apply to it), so
    there the operating system's refusal is emulated for exactly those files."""
    root, cases = corpus
    if os.geteuid() == 0:
        locked = {os.path.realpath(root / c.rel) for c in cases if c.unreadable}
        real_open, real_os_open = builtins.open, os.open

        def refusing_open(file: object, *args: object, **kwargs: object) -> object:
            if isinstance(file, str | bytes | os.PathLike) and os.path.realpath(os.fsdecode(file)) in locked:
                raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(file))
            return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

        def refusing_os_open(file: object, *args: object, **kwargs: object) -> int:
            if isinstance(file, str | bytes | os.PathLike) and os.path.realpath(os.fsdecode(file)) in locked:
                raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(file))
            return real_os_open(file, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(builtins, "open", refusing_open)
        monkeypatch.setattr(os, "open", refusing_os_open)
    yield


def _got(case: Case, root: Path) -> tuple[str, str]:
    outcome = load_outcome(root / case.rel)
    return ("ok" if outcome.status == "ok" else outcome.key), outcome.detail


def test_every_file_loads_or_fails_with_its_specific_message(corpus: tuple[Path, list[Case]],
                                                             unreadable: None) -> None:
    root, cases = corpus
    wrong = []
    for case in cases:
        header_only = case.expect == {"too_many_pixels"}
        if header_only:
            tracemalloc.start()
        try:
            got, detail = _got(case, root)
            peak = tracemalloc.get_traced_memory()[1] if header_only else 0
        finally:
            if header_only:
                tracemalloc.stop()
        if got not in case.expect:
            wrong.append(f"{case.rel!r}: expected {sorted(case.expect)}, got {got} {detail!r}")
        if peak > HEADER_REFUSAL_BYTES:
            wrong.append(f"{case.rel!r}: the size check allocated {peak / 2**20:.0f} MB first")
    assert not wrong, "\n".join(wrong)


def test_errors_name_the_file_by_basename_only(corpus: tuple[Path, list[Case]], unreadable: None) -> None:
    root, cases = corpus
    for case in cases:
        if "ok" in case.expect:
            continue
        with pytest.raises(ImageLoadError) as info:
            load_image(root / case.rel)
        assert info.value.filename == Path(case.rel).name
        assert str(info.value) == f"{Path(case.rel).name}: {info.value.reason}"
        assert str(root.parent) not in str(info.value)


def test_good_files_are_decoded_faithfully(corpus: tuple[Path, list[Case]]) -> None:
    root, _ = corpus
    rotated, plain = load_image(root / "exif_rotated.jpg"), load_image(root / "gray_8bit.png")
    assert rotated.shape == plain.shape[::-1]  # EXIF 6: a quarter turn, so rows and columns swap
    # Rotated clockwise: the stored image's first column (top to bottom) becomes the top row (right to left).
    np.testing.assert_allclose(rotated.pixels[0, ::-1], plain.pixels[:, 0], atol=0.08)
    wide = load_image(root / "gray_16bit.png")
    assert wide.pixels.max() == pytest.approx(1.0) and len(np.unique(wide.pixels)) > 256  # not cut to 8 bits
    for name, fragment in [("rgba.png", "transparency"), ("palette.png", "palette"), ("cmyk.jpg", "CMYK")]:
        image = load_image(root / name)
        assert any(fragment in w for w in image.warnings), (name, image.warnings)
        assert np.abs(image.pixels - plain.pixels).mean() < 0.02  # the same gray content (JPEG is lossy)
    assert load_image(root / "one_pixel.png").shape == (1, 1)
    assert load_image(root / "one_pixel.dcm").shape == (1, 1)
    odd = next(p for p in root.iterdir() if p.name.startswith("r") and p.suffix == ".png" and "\udcff" in p.name)
    np.testing.assert_array_equal(load_image(odd).pixels, plain.pixels)


def test_folder_walk_survives_symlink_loops(corpus: tuple[Path, list[Case]]) -> None:
    root, _ = corpus
    collected = collect_inputs([root])
    resolved = [p.resolve() for p in collected.files]
    assert len(resolved) == len(set(resolved))  # "deep/self -> ." and "deep/er/up -> .." add nothing
    assert [p for p in collected.files if p.name == "nested.dcm"] == [root / "deep" / "er" / "nested.dcm"]
    extra = collect_inputs([root.parent / "extra"])
    assert not any(p.name.startswith("loop_") for p in extra.files)  # a file symlink loop is not a file


def _tree_state(root: Path) -> list[tuple[str, int, int, int]]:
    """Every entry under ``root`` (links not followed): relative path, mode, size and mtime."""
    state = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in sorted(dirs + files) + ["."]:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            state.append((os.path.relpath(path, root), st.st_mode, st.st_size, st.st_mtime_ns))
    return sorted(state)


def test_cli_gives_every_file_a_record_and_leaves_the_inputs_alone(
    corpus: tuple[Path, list[Case]], tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str], unreadable: None,
) -> None:
    root, cases = corpus
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    before = _tree_state(root)
    code = launcher.main(["predict", str(root), "--format", "jsonl"])
    out, err = capfd.readouterr()
    assert _tree_state(root) == before  # nothing written, renamed, touched or removed in the input tree

    assert code == 1  # some inputs failed, the rest were scored
    records = [json.loads(line) for line in out.splitlines()]  # stdout is nothing but JSON lines
    by_path = {r["path"]: r for r in records}
    assert len(by_path) == len(records)
    expected_paths = {display_text(str(p)) for p in collect_inputs([root]).files}
    assert set(by_path) == expected_paths
    wrong = []
    for case in [c for c in cases if c.in_cli_folder]:
        record = by_path[display_text(str(root / case.rel))]
        prefix = display_text(Path(case.rel).name) + ": "
        error = record["error"]
        if error is None:
            got = "ok"
            scored = record["probability"] is not None and 0.0 <= record["probability"] <= 1.0
            if not (scored or record["rejected"]):
                wrong.append(f"{case.rel!r}: neither an error nor a result: {record}")
        elif error.startswith(prefix):
            got = classify(error[len(prefix):]) or f"unknown message {error!r}"
            if record["probability"] is not None or record["label"] is not None:
                wrong.append(f"{case.rel!r}: a failed file has a probability")
        else:
            got = f"error not prefixed by the basename: {error!r}"
        if got not in case.expect:
            wrong.append(f"{case.rel!r}: expected {sorted(case.expect)}, got {got}")
    assert not wrong, "\n".join(wrong)
    assert "Traceback (most recent call last)" not in err
    assert "Logging error" not in err
    ours = [line for line in err.splitlines() if line.startswith("pneumo-desktop: ")]
    assert any("failed" in line for line in ours)  # the summary line
    assert str(root) not in "\n".join(ours)  # basenames only
