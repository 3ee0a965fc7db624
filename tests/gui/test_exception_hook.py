"""The global hook logs the exception type and frames, never the message (it may carry PHI), and shows
one friendly box instead of a traceback."""

from __future__ import annotations

import logging
import sys
import threading

import pytest
from PySide6.QtWidgets import QMessageBox

from pneumo_desktop.gui.exception_hook import FRIENDLY_MESSAGE, ExceptionHook


@pytest.fixture
def boxes(monkeypatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: shown.append(text)))
    return shown


def test_hook_logs_without_the_message_and_shows_a_friendly_box(qtbot, caplog, boxes) -> None:
    hook = ExceptionHook()
    hook.install()
    try:
        # Built at run time so the logged source line cannot contain it.
        path = "/home/clinic/" + "_".join(["Doe", "Jane"]) + "/chest.dcm"
        try:
            raise FileNotFoundError(path)
        except FileNotFoundError:
            with caplog.at_level(logging.ERROR, logger="pneumo_desktop"):
                sys.excepthook(*sys.exc_info())
        qtbot.waitUntil(lambda: boxes == [FRIENDLY_MESSAGE], timeout=2000)
    finally:
        hook.uninstall()
    assert "FileNotFoundError" in caplog.text
    assert "Doe_Jane" not in caplog.text
    assert sys.excepthook is not hook._hook


def test_thread_exceptions_reach_the_gui_thread_box(qtbot, caplog, boxes) -> None:
    hook = ExceptionHook()
    hook.install()
    try:
        secret = "^".join(["Patient", "Secret"])

        def fail() -> None:
            raise ValueError(secret)

        with caplog.at_level(logging.ERROR, logger="pneumo_desktop"):
            worker = threading.Thread(target=fail)
            worker.start()
            worker.join()
        qtbot.waitUntil(lambda: len(boxes) == 1, timeout=2000)
    finally:
        hook.uninstall()
    assert "ValueError" in caplog.text and "Secret" not in caplog.text
