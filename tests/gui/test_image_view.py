"""The viewer: heatmap registration under zoom/rotation/flip, W/L drag, wheel zoom, keys, overlay."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from pneumo_desktop.core.image import LoadedImage, WindowPreset
from pneumo_desktop.gui.display_image import DisplayImage
from pneumo_desktop.gui.heatmap_overlay import heatmap_rgba
from pneumo_desktop.gui.image_view import ImageView


def _display(rows: int = 60, cols: int = 90) -> DisplayImage:
    y, x = np.mgrid[0:rows, 0:cols]
    pixels = (x / (cols - 1)).astype(np.float32)
    pixels[5, 7] = 0.25
    image = LoadedImage(pixels=pixels, path=__import__("pathlib").Path("synthetic.png"), kind="raster",
                        file_sha256="0" * 64, presets=[WindowPreset("Lungs", 0.4, 0.3)])
    return DisplayImage.prepare(image)


@pytest.fixture
def view(qtbot) -> ImageView:
    v = ImageView()
    qtbot.addWidget(v)
    v.resize(400, 300)
    v.show()
    qtbot.waitExposed(v)
    v.set_image(_display())
    return v


def _corners_agree(view: ImageView, scale: float = 1.0) -> None:
    for x, y in ((0, 0), (89, 0), (0, 59), (30.5, 20.25)):
        on_image = view.image_item.mapToScene(QPointF(x, y))
        on_heatmap = view.heatmap_item.mapToScene(QPointF(x / scale, y / scale))
        assert on_image.x() == pytest.approx(on_heatmap.x(), abs=1e-6)
        assert on_image.y() == pytest.approx(on_heatmap.y(), abs=1e-6)


@pytest.mark.parametrize("heatmap_shape", [(60, 90), (30, 45)])
def test_heatmap_stays_registered_under_zoom_rotation_and_flip(view: ImageView, heatmap_shape) -> None:
    view.set_heatmap(heatmap_rgba(np.random.default_rng(0).random(heatmap_shape)))
    scale = 60 / heatmap_shape[0]
    assert view.heatmap_item.parentItem() is view.image_item
    for step in (lambda: view.rotate_by(90), lambda: view.flip(True), lambda: view.zoom_by(2.5),
                 lambda: view.rotate_by(-90), lambda: view.flip(False), view.actual_size):
        step()
        _corners_agree(view, scale)


def test_rotation_and_flip_compose_in_screen_space(view: ImageView) -> None:
    view.rotate_by(90)  # R: clockwise on screen
    assert view.orientation_text() == "Rotated 90° clockwise"
    view.flip(True)  # then H: in reading order, the same film is a left-right flip turned the other way
    assert view.orientation_text() == "Flipped left-right, then rotated 90° counter-clockwise"
    view.flip(True)
    view.rotate_by(-90)
    view.flip(True)
    assert view.orientation_text() == "Flipped left-right"
    view.flip(True)
    view.flip(False)
    assert view.orientation_text() == "Flipped top-bottom"
    view.flip(False)
    view.rotate_by(-90)
    assert view.orientation_text() == "Rotated 90° counter-clockwise"
    view.rotate_by(90)
    view.rotate_by(90)
    view.flip(True)
    view.flip(True)
    view.rotate_by(-90)
    assert view.orientation_text() == ""
    view.rotate_by(90)
    view.reset()
    assert view.orientation_text() == "" and not view.inverted()


def test_right_drag_changes_window_level_and_clamps(view: ImageView, qtbot) -> None:
    vp = view.viewport()
    start = QPoint(200, 150)
    QTest.mousePress(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, start + QPoint(-40, 30))
    QTest.mouseRelease(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, start + QPoint(-40, 30))
    center, width, name = view.window()
    assert name == "Custom"
    assert center > 0.5 and width < 1.0  # down raises the level, left narrows the window
    view.set_window(5.0, 50.0)
    # The level stays in the data range; the width may pass it (a wide window flattens contrast), up to a limit.
    assert view.window()[:2] == (1.0, 4.0)


def test_wheel_zoom_keeps_the_point_under_the_cursor(view: ImageView) -> None:
    cursor = QPoint(120, 90)
    before = view.image_position(cursor)
    event = QWheelEvent(QPointF(cursor), QPointF(view.viewport().mapToGlobal(cursor)), QPoint(0, 0),
                        QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    zoom = view.zoom()
    QApplication.sendEvent(view.viewport(), event)
    assert view.zoom() == pytest.approx(zoom * 1.25**2)
    after = view.image_position(cursor)
    assert after[0] == pytest.approx(before[0], abs=0.6) and after[1] == pytest.approx(before[1], abs=0.6)


def test_invert_and_presets_change_the_displayed_pixels(view: ImageView) -> None:
    pixel = view.image_item.pixmap().toImage().pixelColor(89, 10).red()
    assert pixel == 255
    view.set_inverted(True)
    assert view.image_item.pixmap().toImage().pixelColor(89, 10).red() == 0
    view.apply_preset(view.display.presets[1])
    assert view.window() == (0.4, 0.3, "Lungs")


def test_cursor_reports_the_pixel_value(view: ImageView, qtbot) -> None:
    values = []
    view.cursor_value.connect(values.append)
    target = view.mapFromScene(view.image_item.mapToScene(QPointF(7.5, 5.5)))
    QTest.mouseMove(view.viewport(), target)
    row, col, value = values[-1]
    assert (row, col) == (5, 7) and value == pytest.approx(0.25)


def test_keys_drive_the_view_from_the_window(qtbot, window) -> None:
    from tests.gui.conftest import WAIT_MS, sample

    with qtbot.waitSignal(window.controller.image_ready, timeout=WAIT_MS):
        window.open_paths([sample()])
    window.view.setFocus()
    for key, check in ((Qt.Key.Key_R, lambda: window.view.orientation_text() == "Rotated 90° clockwise"),
                       (Qt.Key.Key_H, lambda: window.view.orientation_text().startswith("Flipped")),
                       (Qt.Key.Key_I, lambda: window.view.inverted()),
                       (Qt.Key.Key_Space, lambda: window.view.orientation_text() == "" and not window.view.inverted())):
        QTest.keyClick(window, key)
        assert check(), key
    heatmap_on = window.actions.heatmap.isChecked()
    QTest.keyClick(window, Qt.Key.Key_O)
    assert window.actions.heatmap.isChecked() is not heatmap_on
    assert window.view.heatmap_item.isVisible() is not heatmap_on
    assert "Zoom" in window.view.overlay.text("bottom_right")
    assert "W 1.000" in window.view.overlay.text("bottom_left")


def test_corner_texts_stay_in_the_corners_when_the_image_scrolls(view: ImageView) -> None:
    view.overlay.set_lines("top_left", ["file.png"])
    view.overlay.set_lines("bottom_right", ["Zoom"])
    view.zoom_by(6.0)
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum())
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
    area = view.viewport().geometry()
    top_left = view.overlay.labels["top_left"].geometry()
    assert area.contains(top_left) and top_left.left() - area.left() < 20 and top_left.top() - area.top() < 20
    assert area.contains(view.overlay.labels["bottom_right"].geometry())


def test_long_corner_texts_never_overlap(view: ImageView) -> None:
    """A long file name and a long patient/study line on the same edge share it: broken at " · ", then elided."""
    overlay = view.overlay
    overlay.set_lines("top_left", ["1.3.6.1.4.1.11129.5.5.110503645592756492463169821050252582267888.dcm",
                                   "DICOM · 1841 × 1955 px", "LOSSY COMPRESSED"])
    overlay.set_lines("top_right", ["CompressedSamples^RG1 · ID 9RG1 · DOB 19400305 · F",
                                    "Study 20040826 · Acc exam Number · Philips Medical Systems Hamburg · CR · PA"])
    for width in (400, 700, 1200):
        view.resize(width, 300)
        QApplication.processEvents()
        left, right = overlay.labels["top_left"].geometry(), overlay.labels["top_right"].geometry()
        assert not left.intersects(right), width
        assert view.viewport().geometry().contains(left) and view.viewport().geometry().contains(right)
    shown = overlay.shown_text("top_right")
    assert "Study 20040826" in shown and "CompressedSamples^RG1" in shown  # broken into lines, not cut
    assert "1841 × 1955" in overlay.shown_text("top_left")
    assert overlay.text("top_right").startswith("CompressedSamples^RG1 · ID 9RG1")  # the full text is kept


def test_fit_lines_breaks_at_separators_then_elides() -> None:
    from pneumo_desktop.gui.overlay_text import corner_widths, fit_lines

    fitted = fit_lines(["Doe^Jane · ID 42 · DOB 20200101", "x" * 30], 16, len, lambda text, w: text[: w - 1] + "…")
    assert fitted == ["Doe^Jane · ID 42", "DOB 20200101", "x" * 15 + "…"]
    assert corner_widths(30, 40, 100) == (30, 40)
    assert corner_widths(30, 90, 100) == (30, 70)
    assert corner_widths(90, 90, 100) == (50, 50)


def test_a_dicom_window_reads_in_its_own_units_and_widens_past_the_tag(qtbot, window) -> None:
    from tests.conftest import DICOM_DIR
    from tests.gui.conftest import WAIT_MS

    with qtbot.waitSignal(window.controller.image_ready, timeout=WAIT_MS):
        window.open_paths([DICOM_DIR / "cr_mono1_10bit_no_file_meta.dcm"])  # WC 550 / WW 1024
    assert window.preset_combo.itemText(0) == "WC 550 / WW 1024"
    assert "W 1024  L 550  (WC 550 / WW 1024)" in window.view.overlay.text("bottom_left")
    vp = window.view.viewport()
    start = vp.rect().center()
    QTest.mousePress(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, start + QPoint(vp.width() // 3, 0))
    QTest.mouseRelease(vp, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, start + QPoint(vp.width() // 3, 0))
    line = window.view.overlay.text("bottom_left").splitlines()[-1]
    assert int(line.split()[1]) > 1024, line


def test_the_preset_box_follows_the_film_on_screen_and_says_custom_after_a_drag(qtbot, window) -> None:
    """Issue 24 C10."""
    from tests.conftest import DICOM_DIR
    from tests.gui.conftest import WAIT_MS, sample

    box = window.preset_combo
    with qtbot.waitSignal(window.controller.image_ready, timeout=WAIT_MS):
        window.open_paths([DICOM_DIR / "cr_mono1_15bit_j2k_lossy.dcm"])
    dicom_names = [p.name for p in window.view.display.presets]
    assert len(dicom_names) > 1 and box.currentText() == dicom_names[0]
    window.pane.apply_preset(1)
    assert box.currentText() == dicom_names[1]

    with qtbot.waitSignal(window.controller.image_ready, timeout=WAIT_MS):
        window.open_paths([sample()])
    names = [p.name for p in window.view.display.presets]
    assert [box.itemText(i) for i in range(box.count())] == names
    assert box.currentIndex() == 0 and box.currentText() == names[0]  # not the previous film's preset

    viewport = window.view.viewport()  # a right-drag changes window/level
    start = viewport.rect().center()
    QTest.mousePress(viewport, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, start + QPoint(40, 25))
    QTest.mouseRelease(viewport, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier,
                       start + QPoint(40, 25))
    assert window.view.window()[2] == "Custom"
    assert box.currentIndex() == -1 and box.placeholderText() == "Custom"
    window.actions.reset.trigger()
    assert box.currentText() == names[0]



def test_lossy_flag_survives_f12_backing_and_readout_follows_keyboard_zoom(qtbot, window) -> None:
    """Issue 24 C9."""
    from PySide6.QtGui import QCursor

    from tests.conftest import DICOM_DIR
    from tests.gui.conftest import WAIT_MS

    with qtbot.waitSignal(window.controller.image_ready, timeout=WAIT_MS):
        window.open_paths([DICOM_DIR / "cr_mono1_15bit_j2k_lossy.dcm"])
    overlay = window.view.overlay
    assert "LOSSY COMPRESSED" in overlay.shown_text("top_left")
    assert "rgba(0, 0, 0" in overlay.labels["top_left"].styleSheet()  # a backing, not only a halo
    window.actions.overlay_text.trigger()  # F12: the corner texts go ...
    assert not window.actions.overlay_text.isChecked()
    assert overlay.shown_text("top_left") == "LOSSY COMPRESSED" and overlay.labels["top_left"].isVisible()
    assert not overlay.labels["top_right"].isVisible() and not overlay.labels["bottom_left"].isVisible()
    window.actions.overlay_text.trigger()
    assert "DICOM" in overlay.shown_text("top_left") and overlay.labels["top_right"].isVisible()

    viewport = window.view.viewport()
    QCursor.setPos(viewport.mapToGlobal(viewport.rect().center() + QPoint(37, 23)))
    if not viewport.rect().contains(viewport.mapFromGlobal(QCursor.pos())):
        pytest.skip("this platform plugin cannot place the mouse pointer")
    seen = []
    window.view.cursor_value.connect(seen.append)
    window.actions.zoom_in.trigger()
    assert seen and seen[-1] is not None  # the readout was recomputed under the resting pointer
    first = seen[-1]
    window.actions.zoom_in.trigger()
    window.actions.zoom_in.trigger()
    assert seen[-1][:2] != first[:2]  # another pixel lies under it now
