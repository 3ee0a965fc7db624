"""The composition root: builds the QApplication, settings, model session, controller, window and
commands, wires them, and starts the model load only after the window has painted.

Nothing here (or in any gui module it imports) imports the model runtime: ``Predictor`` comes in on the
model thread, so the window is on screen before ONNX Runtime and the model load.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSocketNotifier, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from pneumo_desktop import APP_NAME, __version__, paths
from pneumo_desktop.gui.controller import Controller
from pneumo_desktop.gui.dicom_flow import DicomCommands
from pneumo_desktop.gui.exception_hook import ExceptionHook
from pneumo_desktop.gui.export_flow import Exporter
from pneumo_desktop.gui.file_commands import FileCommands
from pneumo_desktop.gui.help_commands import HelpCommands
from pneumo_desktop.gui.main_window import MainWindow
from pneumo_desktop.gui.model_session import ModelSession
from pneumo_desktop.gui.settings import Settings

LOG_FILENAME = "pneumo_desktop.log"
FIRST_PAINT_FALLBACK_MS = 1500
log = logging.getLogger("pneumo_desktop")


def build(*, settings: Settings | None = None, session: ModelSession | None = None) -> MainWindow:
    """Build and wire the window and everything behind it (tests use this without ``main``)."""
    settings = settings or Settings()
    controller = Controller(session or ModelSession())
    window = MainWindow(controller, settings)
    controller.setParent(window)
    exporter = Exporter(window, controller, settings, window.study_list)
    actions = window.actions
    actions.export_pdf.triggered.connect(exporter.export_report)
    actions.export_batch_pdf.triggered.connect(exporter.export_batch_pdf)
    actions.export_csv.triggered.connect(exporter.export_csv)
    window.study_list.export_csv_requested.connect(exporter.export_csv)
    window.study_list.export_pdf_requested.connect(exporter.export_batch_pdf)
    window.exporter = exporter  # type: ignore[attr-defined]
    window.file_commands = FileCommands(window, settings, window.open_paths)  # type: ignore[attr-defined]
    window.help_commands = HelpCommands(window, controller)  # type: ignore[attr-defined]
    dicom = DicomCommands(window, controller, settings, exporter.default_folder)
    window.closing.connect(dicom.shutdown)
    window.dicom_commands = dicom  # type: ignore[attr-defined]
    return window


def start(window: MainWindow, open_paths: list[str] | None = None) -> None:
    """After the first paint: load the model (imports ONNX Runtime on the model thread), then open the paths."""

    def begin() -> None:
        window.controller.load_model()
        window.dicom_commands.start()  # type: ignore[attr-defined]  # listens only if the user turned it on
        unsaved = unsaved_notice()
        if unsaved:
            window.status(unsaved)
        if open_paths:
            given = [Path(p) for p in open_paths]
            window.controller.paths_missing.connect(terminal_notice_of_missing(given))
            window.open_paths(given)

    after_first_paint(window, begin)


def terminal_notice_of_missing(given: list[Path]) -> Callable[[list[Path]], None]:
    """One terminal line for each command-line path that does not exist: the person who typed it is looking at
    the terminal, and the window may open behind it. Paths opened later from the window are not printed."""
    remaining = {str(p) for p in given}

    def say(missing: list[Path]) -> None:
        for path in missing:
            if str(path) in remaining:
                remaining.discard(str(path))
                print(f"pneumo-desktop: not found: {path}", file=sys.stderr, flush=True)

    return say


def unsaved_notice() -> str:
    """One sentence for the window when per-user folders could not be created (the window still works)."""
    unwritable = paths.unwritable_user_dirs()
    if not unwritable:
        return ""
    where = "; ".join(unwritable.values())
    return f"Settings and the audit log cannot be saved: the folder cannot be created ({where})"


class _FirstExpose(QObject):
    """Runs a callback once, on the event-loop turn after the window was first exposed (painted)."""

    def __init__(self, target: QObject, callback: Callable[[], None]) -> None:
        super().__init__(target)
        self._callback: Callable[[], None] | None = callback
        self._target = target
        target.installEventFilter(self)
        QTimer.singleShot(FIRST_PAINT_FALLBACK_MS, self._fire)  # a platform that never sends Expose

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Expose and self._callback is not None:
            QTimer.singleShot(0, self._fire)
        return False

    def _fire(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            self._target.removeEventFilter(self)
            callback()


def after_first_paint(window: MainWindow, callback: Callable[[], None]) -> None:
    handle = window.windowHandle()
    if handle is not None and handle.isExposed():
        QTimer.singleShot(0, callback)
    elif handle is not None:
        _FirstExpose(handle, callback)
    else:
        QTimer.singleShot(0, callback)


SIGINT_POLL_MS = 250


def quit_on_ctrl_c(window: MainWindow) -> None:
    """Ctrl+C in the terminal closes the window as File ▸ Quit does (settings saved, workers stopped).

    Python runs a signal handler only when the interpreter gets control back, and while Qt's event loop
    waits in C++ it never does, so the signal was ignored. On POSIX the handler's wake-up byte goes to a
    pipe that Qt watches; elsewhere a slow timer hands control back. (A socket pair, the usual trick, is a
    loopback TCP connection on Windows, and this app opens no network socket.)"""
    signal.signal(signal.SIGINT, lambda _signum, _frame: window.close())
    if os.name == "posix":
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        os.set_blocking(write_end, False)
        signal.set_wakeup_fd(write_end)
        notifier = QSocketNotifier(read_end, QSocketNotifier.Type.Read, window)
        notifier.activated.connect(lambda: os.read(read_end, 64))
    else:
        timer = QTimer(window)
        timer.timeout.connect(lambda: None)
        timer.start(SIGINT_POLL_MS)


def configure_logging() -> None:
    """Log to a rotating file in the state folder; messages never carry PHI (basenames or hashes only)."""
    root = logging.getLogger("pneumo_desktop")
    if any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        return
    try:
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            paths.state_dir() / LOG_FILENAME, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _style(app: QApplication) -> None:
    app.setStyle("Fusion")
    qss = paths.resources_dir() / "styles" / "app.qss"
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
    icon = paths.resources_dir() / "icons" / "app.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


def main(paths_to_open: list[str] | None = None) -> int:
    configure_logging()
    # Fractional scaling (150 %) renders crisply instead of being rounded to 100 % or 200 %.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setOrganizationName(APP_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setApplicationDisplayName(APP_NAME)
    # Wayland matches windows to resources/pneumo-desktop.desktop by this name (X11 uses the window class).
    QGuiApplication.setDesktopFileName("pneumo-desktop")
    _style(app)
    hook = ExceptionHook()
    hook.install()
    window = build()
    hook.set_parent(window)
    app.aboutToQuit.connect(window.dicom_commands.shutdown)  # type: ignore[attr-defined]
    app.aboutToQuit.connect(window.controller.shutdown)
    quit_on_ctrl_c(window)
    window.show()
    start(window, list(paths_to_open or []))
    log.info("pneumo_desktop %s started", __version__)
    try:
        return int(app.exec())
    finally:
        hook.uninstall()
