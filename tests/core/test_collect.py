"""Which files a folder walk takes: image extensions, DICOM by magic, nothing hidden, no symlink loops."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pneumo_desktop.core.collect import collect_inputs, input_folders, is_image_file, is_inside
from tests.conftest import DICOM_DIR, FILMS_256


def _dicom_bytes() -> bytes:
    return (DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm").read_bytes()


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    (root / "b_sub" / "deeper").mkdir(parents=True)
    (root / ".hidden_dir").mkdir()
    jpeg = next((FILMS_256 / "NORMAL").glob("*.jpg")).read_bytes()
    (root / "z.JPG").write_bytes(jpeg)
    (root / "a.png").write_bytes(b"not really a png")  # taken by extension; the loader explains
    (root / "b_sub" / "deeper" / "c.jpeg").write_bytes(jpeg)
    (root / "b_sub" / "IM0001").write_bytes(_dicom_bytes())  # extensionless DICOM
    (root / "b_sub" / "1.2.840.113619.2.55").write_bytes(_dicom_bytes())  # UID-named DICOM
    (root / "b_sub" / "notes").write_bytes(b"x" * 200)  # extensionless, no magic
    (root / "readme.txt").write_text("hello")
    (root / ".DS_Store").write_bytes(b"\0" * 10)
    (root / ".hidden.png").write_bytes(jpeg)
    (root / "DICOMDIR").write_bytes(_dicom_bytes())
    (root / ".hidden_dir" / "x.png").write_bytes(jpeg)
    return root


def test_folder_walk_takes_images_in_sorted_order_and_counts_the_rest(tree: Path) -> None:
    got = collect_inputs([tree])
    rel = [p.relative_to(tree).as_posix() for p in got.files]
    assert rel == ["a.png", "b_sub/1.2.840.113619.2.55", "b_sub/IM0001", "b_sub/deeper/c.jpeg", "z.JPG"]
    # notes, readme.txt, .DS_Store, .hidden.png, DICOMDIR and the hidden folder
    assert got.skipped == 6
    assert got.folders == [tree]
    assert all(str(p).startswith(str(tree)) for p in got.files)  # paths as walked, not resolved


def test_explicit_files_are_always_taken_and_missing_ones_reported(tree: Path) -> None:
    got = collect_inputs([tree / "readme.txt", tree / "nope.png", tree / "z.JPG"])
    assert got.files == [tree / "readme.txt", tree / "z.JPG"]
    assert got.missing == [tree / "nope.png"]


def test_the_same_file_given_twice_is_read_once(tree: Path) -> None:
    got = collect_inputs([tree / "z.JPG", tree, str(tree / "z.JPG")])
    assert [p.name for p in got.files].count("z.JPG") == 1


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlink_loops_are_walked_once(tree: Path) -> None:
    os.symlink(tree, tree / "b_sub" / "loop_to_root")
    os.symlink(tree / "b_sub", tree / "b_sub" / "deeper" / "loop_up")
    got = collect_inputs([tree])
    assert len(got.files) == 5
    assert len({p.resolve() for p in got.files}) == 5


def test_is_image_file_rules(tmp_path: Path) -> None:
    dicom = tmp_path / "IMG0001"
    dicom.write_bytes(_dicom_bytes())
    short = tmp_path / "SHORT"
    short.write_bytes(b"DICM")  # too short to hold the magic at offset 128
    assert is_image_file(dicom)
    assert not is_image_file(short)
    assert is_image_file(tmp_path / "scan.TIFF")
    assert not is_image_file(tmp_path / "DicomDir")


def test_input_folders_and_is_inside(tree: Path, tmp_path: Path) -> None:
    got = collect_inputs([tree / "b_sub" / "deeper" / "c.jpeg", tree / "b_sub"])
    folders = input_folders(got)
    assert is_inside(tree / "b_sub" / "heatmaps", folders)
    assert is_inside(tree / "b_sub" / "deeper", folders)
    assert not is_inside(tmp_path / "out", folders)
    assert not is_inside(tree, folders)
