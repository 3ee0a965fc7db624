"""Regenerate docs/screenshots/window_single.png and window_batch.png (offscreen, real window).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.gui.make_screenshots [OUT_DIR]

Uses the shipped model in models/ (PNEUMO_DESKTOP_MODELS overrides) and the sample X-rays in
../shared/data/samples. Settings go to a temporary folder, so the window has its default layout.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PNEUMO_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="pneumo_screens_")

from PySide6.QtCore import QEventLoop  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from pneumo_desktop import app  # noqa: E402
from tests.conftest import REPO, SAMPLES  # noqa: E402

SIZE = (1400, 900)
SINGLE = SAMPLES / "PNEUMONIA" / "person1_virus_6.jpeg"


def wait(qapp: QApplication, condition, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window did not reach the expected state")
        qapp.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    for _ in range(5):
        qapp.processEvents()


def main(out_dir: Path) -> None:
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

    window.open_paths([SINGLE])
    wait(qapp, lambda: controller.current_result is not None)
    out_dir.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out_dir / "window_single.png"))

    window.open_paths([SAMPLES])
    wait(qapp, lambda: window.study_list.model.rowCount() == 12 and not controller.batch_running())
    window.study_list.sort_by_probability()
    controller.current_result = None
    window.study_list.table.clearSelection()  # the top row may already be the selected one
    window.study_list.select_row(0)
    wait(qapp, lambda: controller.current_result is not None)
    window.grab().save(str(out_dir / "window_batch.png"))
    controller.shutdown()
    print(f"wrote {out_dir / 'window_single.png'} and {out_dir / 'window_batch.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "screenshots")
