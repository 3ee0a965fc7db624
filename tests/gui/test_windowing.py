"""Display window/level maths and overlay texts (no Qt needed)."""

from __future__ import annotations

import numpy as np
import pytest

from pneumo_desktop.gui import windowing
from pneumo_desktop.gui.overlay_text import cursor_lines, geometry_lines
from pneumo_desktop.gui.phi import file_label, patient_lines, scrub


def test_default_window_shows_pixels_as_loaded() -> None:
    pixels = np.linspace(0, 1, 101, dtype=np.float32).reshape(1, -1)
    shown = windowing.apply(windowing.quantise(pixels), windowing.lookup_table(0.5, 1.0))
    assert np.abs(shown.astype(int) - np.rint(pixels * 255).astype(int)).max() <= 1


def test_narrow_window_saturates_outside_and_invert_flips() -> None:
    q = windowing.quantise(np.array([[0.0, 0.3, 0.5, 0.7, 1.0]], dtype=np.float32))
    shown = windowing.apply(q, windowing.lookup_table(0.5, 0.4))
    assert shown.tolist() == [[0, 0, 128, 255, 255]]
    inverted = windowing.apply(q, windowing.lookup_table(0.5, 0.4, invert=True))
    assert inverted.tolist() == [[255, 255, 127, 0, 0]]


@pytest.mark.parametrize(("center", "width", "invert"), [(0.5, 1.0, False), (0.3, 0.2, False)])
def test_first_frame_from_floats_matches_the_lookup_path(center: float, width: float, invert: bool) -> None:
    pixels = np.random.default_rng(3).random((301, 517), dtype=np.float32)
    direct = windowing.render(pixels, center, width)
    looked_up = windowing.apply(windowing.quantise(pixels), windowing.lookup_table(center, width, invert))
    assert direct.dtype == np.uint8 and direct.shape == pixels.shape
    assert np.abs(direct.astype(int) - looked_up.astype(int)).max() <= 1


def test_full_range_spans_the_data_and_clamp_keeps_inside() -> None:
    preset = windowing.full_range(np.array([[0.2, 0.6]], dtype=np.float32))
    assert preset.name == "Full range"
    assert (preset.center, preset.width) == pytest.approx((0.4, 0.4))
    assert windowing.clamp(-1.0, 0.0) == (0.0, windowing.MIN_WIDTH)
    assert windowing.drag_to_window(0.5, 0.5, dx=100, dy=50, span=100) == (1.0, 1.5)  # widens past the range
    assert windowing.clamp(0.5, 100.0) == (0.5, windowing.MAX_WIDTH)


def test_overlay_lines() -> None:
    assert cursor_lines((3, 4, 0.25), 0.5, 1.0, "Default", True) == [
        "Value 0.250 at x 4, y 3", "W 1.000  L 0.500  (Default)", "INVERTED"]
    assert geometry_lines(0.5, "Rot 90°") == ["Zoom 50 %", "Rot 90°"]


def test_phi_helpers() -> None:
    meta = {"patient_name": "Doe^Jane", "patient_id": "7", "sex": "F", "study_date": "20240101", "modality": "CR"}
    # Names and dates as people write them (issue 24 C15), not "Doe^Jane" and "20240101".
    assert patient_lines(meta, False)[0] == "Doe, Jane · ID 7 · F"
    assert patient_lines(meta, True) == ["F", "Study 2024-01-01 · CR", "PHI hidden"]
    assert patient_lines({"age": "062Y"}, False) == ["age 62 y"]
    assert patient_lines({"age": "62", "birth_date": "19400305"}, False) == ["DOB 1940-03-05 · age 62 y"]
    assert file_label("/a/Doe_Jane.dcm", "abcdef0123456789", True, 2) == "Image 3 · sha256 abcdef012345"
    assert scrub("Doe_Jane.dcm: empty file", "/a/Doe_Jane.dcm", True) == "the file: empty file"
    assert scrub("Doe_Jane.dcm: empty file", "/a/Doe_Jane.dcm", False) == "Doe_Jane.dcm: empty file"


def test_dicom_windows_and_values_read_in_modality_units() -> None:
    from pneumo_desktop.core.image import WindowPreset
    from pneumo_desktop.gui.dicom_units import ModalityUnits, preset_names

    meta = {"voi": "window", "window_center": 550.0, "window_width": 1024.0, "photometric": "MONOCHROME1"}
    units = ModalityUnits.of(meta)
    assert units is not None
    assert units.window(0.5, 1.0) == (550.0, 1024.0)
    assert units.window(0.5, 2.0) == (550.0, 2048.0)
    assert units.value_text(0.25) == f"{550 + 0.25 * 1024:.0f}"  # inverted: brighter is lower
    assert units.value_text(1.0) == "≤ 38" and units.value_text(0.0) == "≥ 1062"
    assert cursor_lines((1, 2, 0.5), 0.5, 1.0, "WC 550 / WW 1024", False, units) == [
        "Value 550 at x 2, y 1", "W 1024  L 550  (WC 550 / WW 1024)"]
    assert ModalityUnits.of({"voi": "lut"}) is None and ModalityUnits.of({}) is None
    presets = [WindowPreset("Default", 0.5, 1.0), WindowPreset("DICOM window 2", 0.4, 2.0),
               WindowPreset("Full range", 0.5, 1.0)]
    names = [p.name for p in preset_names(presets, dict(meta, window_center=(550.0, 500.0),
                                                        window_width=(1024.0, 2048.0)))]
    assert names == ["WC 550 / WW 1024", "WC 500 / WW 2048", "Full range"]
    assert preset_names(presets[:1], {"voi": "lut"})[0].name == "VOI LUT 1"
