"""Regenerate docs/screenshots/window_single.png, window_batch.png and window_dicom_{1280x720,1920x1080}.png
and dicom_nodes_dialog.png and window_received.png (Settings ▸ DICOM Nodes, and films sent to the app's listener
over 127.0.0.1, scored in the study list); offscreen, the real window. --pacs makes only the last two.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/make_screenshots.py [--pacs] [OUT_DIR]

Uses the shipped model in models/ (PNEUMO_DESKTOP_MODELS overrides) and the sample X-rays in
samples/. Settings go to a temporary folder, so the window has its default layout.
"""

from __future__ import annotations

import os
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
from tests.conftest import DICOM_DIR, REPO, SAMPLES  # noqa: E402

SIZE = (1400, 900)
SINGLE = SAMPLES / "PNEUMONIA" / "person1_virus_6.jpeg"
# An adult CR (64 years from its dates), lossy JPEG 2000, long patient and study lines: the warnings and the
# corner layout at the two common screen sizes.
DICOM = DICOM_DIR / "cr_mono1_15bit_j2k_lossy.dcm"
DICOM_SIZES = ((1280, 720), (1920, 1080))


def wait(qapp: QApplication, condition, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window did not reach the expected state")
        qapp.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    for _ in range(5):
        qapp.processEvents()


def pacs_screens(qapp: QApplication, window, out_dir: Path) -> list[str]:
    """The settings dialog as a site would fill it in, and two films pushed to the listener, scored."""
    from pneumo_desktop.dicom_net.node_config import NodeConfig
    from pneumo_desktop.dicom_net.nodes import DicomNode
    from pneumo_desktop.dicom_net.send import send_files
    from tests.dicom_net.orthanc import free_port

    port = free_port()
    commands = window.dicom_commands
    commands.apply_config(NodeConfig(ae_title="PNEUMO_DESKTOP", port=port, listening=True,
                                     allowed_callers=("ORTHANC", "CR_ROOM_2"),
                                     remotes=(DicomNode("ORTHANC", "pacs.hospital.local", 4242),
                                              DicomNode("ARCHIVE", "10.20.0.15", 104, "C-MOVE"))))
    dialog = commands.open_nodes_dialog()
    dialog.table.selectRow(0)
    dialog.verify_result.setText("ORTHANC@pacs.hospital.local:4242 answered: C-ECHO succeeded; a study search "
                                 "(C-FIND) succeeded.")
    wait(qapp, lambda: dialog.isVisible())
    out_dir.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(out_dir / "dicom_nodes_dialog.png"))
    dialog.reject()

    window.resize(*SIZE)
    window.layout_keeper.reset()
    films = [DICOM_DIR / "cr_mono1_8bit_jpeg_baseline.dcm", DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm"]
    for film in films:
        send_files(DicomNode("PNEUMO_DESKTOP", "127.0.0.1", port), [film], calling_ae="ORTHANC", timeout_s=20)
    model = window.study_list.model
    wait(qapp, lambda: len(commands.receiver.received) == len(films) and model.rowCount() == len(films)
         and all(row.finished for row in model.rows) and not window.controller.batch_running())
    window.study_list.select_row(0)
    wait(qapp, lambda: window.controller.current_result is not None)
    window.grab().save(str(out_dir / "window_received.png"))
    commands.shutdown()
    return ["dicom_nodes_dialog.png", "window_received.png"]


def show(qapp: QApplication, controller, path: Path) -> None:
    """Show ``path`` and wait for its own result (not the one already on screen)."""
    before = controller.current_result
    controller.show_file(path)
    wait(qapp, lambda: controller.current_result is not None and controller.current_result is not before
         and Path(controller.current_result.image.path).resolve() == Path(path).resolve())


def main(out_dir: Path, *, pacs_only: bool = False) -> None:
    qapp = QApplication(sys.argv[:1])
    app._style(qapp)
    window = app.build()
    window.resize(*SIZE)
    window.show()
    controller = window.controller
    controller.load_model()
    wait(qapp, lambda: controller.session.card is not None or controller.session.error is not None)
    if controller.session.error is not None:
        raise SystemExit(f"no model: {controller.session.error}")
    if pacs_only:
        written = pacs_screens(qapp, window, out_dir)
        controller.shutdown()
        print("wrote " + ", ".join(str(out_dir / name) for name in written))
        return

    window.open_paths([SINGLE])
    wait(qapp, lambda: controller.current_result is not None)
    out_dir.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out_dir / "window_single.png"))

    window.open_paths([SAMPLES])
    wait(qapp, lambda: window.study_list.model.rowCount() == 12 and not controller.batch_running())
    window.study_list.sort_by_probability()
    show(qapp, controller, window.study_list.ordered_rows()[0].path)
    window.grab().save(str(out_dir / "window_batch.png"))
    written = ["window_single.png", "window_batch.png"]
    for width, height in DICOM_SIZES:
        window.resize(width, height)
        window.layout_keeper.reset()  # the layout a first start at this size gets
        show(qapp, controller, DICOM)
        name = f"window_dicom_{width}x{height}.png"
        window.grab().save(str(out_dir / name))
        written.append(name)
    window.resize(*SIZE)
    window.layout_keeper.reset()
    written += pacs_screens(qapp, window, out_dir)
    controller.shutdown()
    print("wrote " + ", ".join(str(out_dir / name) for name in written))


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--pacs"]
    main(Path(arguments[0]) if arguments else REPO / "docs" / "screenshots", pacs_only="--pacs" in sys.argv[1:])
