"""A JPEG 2000 film is painted at half resolution first, then replaced by the full decode (issue 25 item 9);
the first look never sits beside the previous film's patient, and other films get no preview."""

from __future__ import annotations

from pneumo_desktop.core.loader import load_image
from tests.conftest import DICOM_DIR
from tests.gui.conftest import WAIT_MS, sample

RG1 = DICOM_DIR / "cr_mono1_15bit_j2k_lossy.dcm"
NAMED = DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm"  # PatientName "Covid0000"


def test_rg1_is_previewed_at_its_full_size_then_replaced(qtbot, window) -> None:
    controller, view = window.controller, window.pane.view
    with qtbot.waitSignal(controller.image_ready, timeout=WAIT_MS):
        controller.show_file(NAMED)
    assert "Covid0000" in view.overlay.text("top_right")
    assert "Covid0000" in window.dicom_panel.values().values()
    order: list[str] = []
    previews: list = []
    controller.image_preview.connect(lambda frame: (order.append("preview"), previews.append(frame)))
    controller.image_ready.connect(lambda _display: order.append("image"))

    def at_preview(frame) -> None:
        # The preview on the view, the full decode still running: laid out as the full film, no display.
        assert view.display is None and view.image_item.pixmap().size() == frame.size()
        assert "Covid0000" not in view.overlay.text("top_right")
        assert window.dicom_panel.values() == {"": "Reading the header…"}

    controller.image_preview.connect(at_preview)
    with qtbot.waitSignal(controller.prediction_ready, timeout=WAIT_MS):
        controller.show_file(RG1)
    assert order == ["preview", "image"]
    rows, columns = load_image(RG1).shape
    (frame,) = previews
    assert (frame.height(), frame.width()) == (rows, columns)
    assert view.display is not None and view.display.image.path == RG1
    assert (view.image_item.pixmap().height(), view.image_item.pixmap().width()) == (rows, columns)


def test_a_jpeg_gets_no_preview(qtbot, window) -> None:
    controller = window.controller
    previews: list = []
    controller.image_preview.connect(previews.append)
    with qtbot.waitSignal(controller.prediction_ready, timeout=WAIT_MS):
        controller.show_file(sample())
    assert previews == []
