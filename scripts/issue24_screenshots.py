"""Issue 24's screenshots, at 1920x1080 and 1280x720, offscreen, the real window and shipped model:
films pushed over DICOM while a film is read (the film on screen stays), Score as Displayed then a flip and
Space (the result follows the orientation), and the PDF of a reader-oriented result (pdftoppm).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/issue24_screenshots.py OUT_DIR
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PNEUMO_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="pneumo_screens_")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from pneumo_desktop import app  # noqa: E402
from tests.conftest import DICOM_DIR, SAMPLES  # noqa: E402

SIZES = ((1920, 1080), (1280, 720))
READING = DICOM_DIR / "cr_mono1_15bit_j2k_lossy.dcm"
PUSHED = [DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm", DICOM_DIR / "cr_mono2_8bit_jpeg_baseline.dcm"]
FILM = SAMPLES / "PNEUMONIA" / "person1_virus_6.jpeg"


def wait(qapp: QApplication, condition, timeout: float = 180.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window did not reach the expected state")
        qapp.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    for _ in range(5):
        qapp.processEvents()


def new_result(qapp: QApplication, window, trigger) -> None:
    before = window.controller.current_result
    trigger()
    wait(qapp, lambda: window.controller.current_result is not None and window.controller.current_result is not before)


def main(out: Path) -> None:
    from pneumo_desktop.dicom_net.node_config import NodeConfig
    from pneumo_desktop.dicom_net.nodes import DicomNode
    from pneumo_desktop.dicom_net.send import send_files
    from pneumo_desktop.report import write_single_report
    from tests.dicom_net.orthanc import free_port

    out.mkdir(parents=True, exist_ok=True)
    qapp = QApplication(sys.argv[:1])
    app._style(qapp)
    window = app.build()
    window.ask_quit = lambda _parent, _question: True
    window.dicom_commands._confirm_send = lambda _parent, _question: True
    window.show()
    controller = window.controller
    controller.load_model()
    wait(qapp, lambda: controller.session.card is not None or controller.session.error is not None)
    for width, height in SIZES:
        window.resize(width, height)
        window.layout_keeper.reset()
        suffix = f"{width}x{height}"
        # 1. Reading a film; two films of two other patients are pushed to the listener.
        port = free_port()
        window.dicom_commands.apply_config(NodeConfig(ae_title="PNEUMO", port=port, listening=True,
                                                      allowed_callers=("ORTHANC",)))
        # Read from a list of two opened films; the first (an adult CR) is on screen.
        new_result(qapp, window, lambda: window.open_paths([READING, SAMPLES / "NORMAL" / sorted(
            p.name for p in (SAMPLES / "NORMAL").iterdir())[0]]))
        wait(qapp, lambda: not controller.batch_running())
        finished: list[bool] = []
        controller.batch_finished.connect(finished.append)
        for film in PUSHED:
            send_files(DicomNode("PNEUMO", "127.0.0.1", port), [film], calling_ae="ORTHANC", timeout_s=20)
        model = window.study_list.model
        wait(qapp, lambda: finished and model.rowCount() >= 4  # noqa: B023 - called within the iteration
             and all(r.finished for r in model.rows) and not controller.batch_running())  # noqa: B023
        controller.batch_finished.disconnect(finished.append)
        assert controller.study.image.path == READING
        window.grab().save(str(out / f"received_while_reading_{suffix}.png"))
        window.dicom_commands.apply_config(NodeConfig(listening=False))

        # 2. Score as Displayed (turned left), a flip (result for another orientation), then Space.
        new_result(qapp, window, lambda: controller.show_file(FILM))
        window.actions.rotate_left.trigger()
        new_result(qapp, window, window.actions.score_displayed.trigger)
        window.grab().save(str(out / f"scored_as_displayed_{suffix}.png"))
        sad = controller.current_result
        window.actions.flip_h.trigger()
        wait(qapp, lambda: True)
        window.grab().save(str(out / f"other_orientation_{suffix}.png"))
        new_result(qapp, window, window.actions.reset.trigger)
        window.grab().save(str(out / f"reset_after_score_as_displayed_{suffix}.png"))
        window.actions.flip_h.trigger()
        new_result(qapp, window, window.actions.score_displayed.trigger)
        flipped = controller.current_result
        window.actions.reset.trigger()
        wait(qapp, lambda: controller.current_result not in (flipped, None))  # noqa: B023 - called here

    # 3. The PDF of the reader-oriented result.
    pdf = write_single_report(out / "reader_oriented.pdf", sad.image, sad.prediction, controller.session.card,
                              hide_phi=False, overwrite=True)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(out / "reader_oriented_pdf")], check=True)
    pdf = write_single_report(out / "reader_flipped.pdf", flipped.image, flipped.prediction,
                              controller.session.card, hide_phi=False, overwrite=True)
    subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "1", str(pdf), str(out / "reader_flipped_pdf")],
                   check=True)
    controller.shutdown()
    print("wrote", sorted(p.name for p in out.iterdir()))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
