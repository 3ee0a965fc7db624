"""Which files a folder walk takes: image extensions, DICOM by magic, nothing hidden, no symlink loops."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pneumo_desktop.core.collect import (
    LINK_OUT,
    LINK_SEEN,
    collect_inputs,
    input_folders,
    is_image_file,
    is_inside,
)
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


# --- issue 26, items 13-14: links out of the tree, loops, depth, unreadable folders --------------------------


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_links_out_of_the_opened_folder_are_named_not_followed(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "other_patient.png").write_bytes(b"x")
    os.symlink("/", tree / "root_link")
    os.symlink(outside, tree / "b_sub" / "outside_dir")
    os.symlink(outside / "other_patient.png", tree / "linked.png")
    os.symlink(tree / "z.JPG", tree / "b_sub" / "inside.jpg")  # inside the tree: followed
    got = collect_inputs([tree])
    rel = sorted(p.relative_to(tree).as_posix() for p in got.files)
    # inside.jpg and z.JPG are one file, read once under the name met first
    assert rel == ["a.png", "b_sub/1.2.840.113619.2.55", "b_sub/IM0001", "b_sub/deeper/c.jpeg", "b_sub/inside.jpg"]
    assert sorted(p.name for p, why in got.not_followed if why == LINK_OUT) == ["linked.png", "outside_dir",
                                                                                   "root_link"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_loops_are_named(tree: Path) -> None:
    os.symlink(tree, tree / "b_sub" / "loop_to_root")
    os.symlink(tree / "b_sub", tree / "b_sub" / "deeper" / "loop_up")
    got = collect_inputs([tree])
    assert len(got.files) == 5
    assert sorted(p.name for p, why in got.not_followed) == ["loop_to_root", "loop_up"]
    assert all(why == LINK_SEEN for _, why in got.not_followed)


def test_a_tree_1100_levels_deep_is_walked_without_recursion(tmp_path: Path) -> None:
    deepest = tmp_path / "in"
    deepest.mkdir()
    for _ in range(1100):  # one by one: os.makedirs itself recurses once per level
        deepest = deepest / "d"
        deepest.mkdir()
    (deepest / "bottom.png").write_bytes(b"x")
    try:
        got = collect_inputs([tmp_path / "in"])
        assert got.files == [deepest / "bottom.png"]
        assert not got.unreadable
    finally:  # bottom up: shutil.rmtree (pytest's clean-up of old temp folders) recurses once per level too
        (deepest / "bottom.png").unlink()
        while deepest != tmp_path:
            deepest.rmdir()
            deepest = deepest.parent


def test_unreadable_folders_are_named_with_the_reason(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, which reads any folder: the refusal is the operating system's, simulated here.
    blocked = tree / "b_sub" / "deeper"
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == blocked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    got = collect_inputs([tree])
    assert got.unreadable == [(blocked, "permission denied")]
    assert tree / "b_sub" / "deeper" / "c.jpeg" not in got.files
    assert got.skipped == 6  # as without the block: nothing unreadable is counted as "not an image"


def test_a_path_too_long_to_open_is_named(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    # 25 folders of 200 bytes: over PATH_MAX (4096), so only a descriptor-relative mkdir can make them.
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(25):
            os.mkdir("n" * 200, dir_fd=fd)
            child = os.open("n" * 200, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
    finally:
        os.close(fd)
    got = collect_inputs([root])
    assert [why for _, why in got.unreadable] == ["its path is too long"]
    assert got.skipped == 0


def test_a_dicomdir_is_never_taken_by_a_walk(tmp_path: Path) -> None:
    from tests.robustness.standard_files import dicomdir_with_films

    dicomdir = dicomdir_with_films(tmp_path / "disc", count=2)
    (dicomdir.parent / "dicomdir").write_bytes(dicomdir.read_bytes())  # lower case on a case-sensitive disk
    got = collect_inputs([tmp_path / "disc"])
    assert len(got.files) == 2 and all(p.name.upper() != "DICOMDIR" for p in got.files)
