"""Help > View Audit Log: the newest entries of the local audit log (predictions and DICOM sends), read on a
worker. A send line has no probability and a prediction line no destination: each leaves the other's cells
empty, and the event column tells them apart."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pneumo_desktop.core.audit import DAMAGED_EVENT
from pneumo_desktop.core.result_text import percent

COLUMNS = ("time", "event", "source", "probability", "label", "threshold", "gate", "destination_ae", "sent",
           "failed", "outcome", "file_sha256", "model", "model_sha256", "app_version")
PREDICTION = "prediction"  # lines written before events had names are all predictions


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key in ("probability", "threshold") and isinstance(value, int | float):
        return percent(float(value))  # as the panel and the PDFs write it; the raw number is the tooltip
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


class AuditDialog(QDialog):
    def __init__(self, location: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit log")
        self.info = QLabel(f"Reading the audit log ({location})…", self)
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels([c.replace("_", " ") for c in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAccessibleName("Audit log entries")
        self._location = location
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, Qt.Orientation.Horizontal, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(900, 480)

    def set_entries(self, entries: list[dict[str, Any]]) -> None:
        damaged = sum(entry.get("event") == DAMAGED_EVENT for entry in entries)
        warning = (f" {damaged} damaged line{'s are' if damaged > 1 else ' is'} shown as \"damaged\": cut short "
                   "(a full disk or a crash), so the trail has a gap there." if damaged else "")
        self.info.setText(
            f"{len(entries)} most recent entries (predictions and DICOM sends), newest first. No patient data or file names are "
            f"logged; match a report to its line by the file sha256.{warning} File: {self._location}"
        )
        rows = list(reversed(entries))
        self.table.setRowCount(len(rows))
        for r, entry in enumerate(rows):
            if entry.get("event") == DAMAGED_EVENT:
                self._set_damaged_row(r, entry)
                continue
            for c, key in enumerate(COLUMNS):
                value = entry.get(key, PREDICTION) if key == "event" else entry.get(key)
                item = QTableWidgetItem(_cell(key, value))
                if isinstance(value, float):
                    item.setToolTip(repr(value))
                self.table.setItem(r, c, item)

    def _set_damaged_row(self, row: int, entry: dict[str, Any]) -> None:
        """Every cell says so, and the line's first characters are in the tooltip: never skipped, never taken
        for a prediction."""
        tip = f"Line {entry.get('line')} of the audit log is damaged: {entry.get('text', '')}"
        for c, key in enumerate(COLUMNS):
            text = f"damaged (line {entry.get('line')})" if key == "event" else ""
            item = QTableWidgetItem(text)
            item.setToolTip(tip)
            item.setBackground(QColor(255, 224, 178))
            self.table.setItem(row, c, item)

    def set_error(self, message: str) -> None:
        self.info.setText(f"The audit log could not be read: {message}")
