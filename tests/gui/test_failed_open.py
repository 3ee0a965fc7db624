"""A failed open never leaves another patient's film on screen; a DICOM that cannot be shown still shows its tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DICOM_DIR
from tests.gui.conftest import WAIT_MS, sample


def _open(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.controller.image_failed, timeout=WAIT_MS):
        window.open_paths([path])


@pytest.mark.parametrize("name", ["notes.csv", "renamed.png"])
def test_a_failed_open_clears_the_viewer_to_a_placeholder_naming_the_file(qtbot, window, tmp_path: Path,
                                                                          name: str) -> None:
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([sample()])
    assert window.view.has_heatmap()
    bad = tmp_path / name
    bad.write_text("patient,score\n1,2\n")
    _open(qtbot, window, bad)
    view = window.view
    assert view.display is None
    assert view.image_item.pixmap().isNull() and not view.has_heatmap()
    assert view.placeholder.isVisible()
    assert name in view.placeholder.text() and "not an image" in view.placeholder.text()
    assert name in window.windowTitle()
    assert sample().name not in window.windowTitle()
    assert view.overlay.text("top_left") == ""


def test_with_hide_phi_the_placeholder_does_not_name_the_file(qtbot, window, tmp_path: Path) -> None:
    window.set_hide_phi(True)
    bad = tmp_path / "Doe_Jane.png"
    bad.write_bytes(b"not a png")
    _open(qtbot, window, bad)
    assert "Doe_Jane" not in window.view.placeholder.text()
    assert "cannot be shown" in window.view.placeholder.text()
    window.set_hide_phi(False)
    assert "Doe_Jane.png" in window.view.placeholder.text()
    window.set_hide_phi(True)  # turned on after the failure: the name goes from the view and the panel too
    assert "Doe_Jane" not in window.view.placeholder.text() + window.prediction_panel.meaning.text()


def test_the_empty_window_says_what_to_do(window) -> None:
    assert "Drop" in window.view.placeholder.text() and window.view.placeholder.isVisible()


@pytest.mark.parametrize("name", ["cr_chest_no_pixel_data.dcm", "dx_mono1_12bit_j2k_lossless_bad_marker.dcm"])
def test_a_dicom_that_cannot_be_displayed_still_shows_its_header_tags(qtbot, window, name: str) -> None:
    with qtbot.waitSignal(window.controller.image_header, timeout=WAIT_MS):
        window.open_paths([DICOM_DIR / name])
    values = window.dicom_panel.values()
    assert values["Image"] == "DICOM without a displayable image"
    assert values["Modality"] in ("CR", "DX") and values["Body part"] == "CHEST"
    assert "not a DICOM file" not in " ".join(values.values())
    assert window.view.display is None and "cannot be shown" in window.view.placeholder.text()
    assert "PA" in window.view.overlay.text("top_right")
    window.set_hide_phi(True)
    assert "Patient name" not in window.dicom_panel.values()


def test_a_file_that_is_not_dicom_gets_no_tags(qtbot, window, tmp_path: Path) -> None:
    bad = tmp_path / "notes.dcm"
    bad.write_text("not a DICOM\n")
    _open(qtbot, window, bad)
    qtbot.waitUntil(lambda: not window.controller.busy(), timeout=WAIT_MS)
    assert "DICOM without a displayable image" not in window.dicom_panel.values().values()
