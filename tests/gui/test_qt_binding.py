"""Guards against a Qt binding that corrupts reference counts.

PySide6 6.12.0 on CPython 3.11 returns None from every void method (setText, update, processEvents...)
without taking a reference; None's count falls by one per call and the app aborts with "deallocating
None" after a few thousand calls (a minute of window/level dragging). 6.11.3 is fine. CPython >= 3.12
makes None immortal, which hides the bug there.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel


def test_void_calls_keep_none_alive(qtbot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("x")
        QCoreApplication.processEvents()
    assert abs(sys.getrefcount(None) - before) < 200, "the PySide6 build leaks references to None"
