"""The batch list's data: one row per file, filled as results arrive, and a triage sort order."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

from pneumo_desktop.core.records import phi_safe_warnings, triage_key
from pneumo_desktop.core.result_text import percent
from pneumo_desktop.gui.name_elide import shared_affixes
from pneumo_desktop.gui.phi import file_label, row_label, scrub
from pneumo_desktop.gui.qimage import gray_qimage

COLUMNS = ("", "Name", "Probability", "Label", "Status")
THUMB, NAME, PROBABILITY, LABEL, STATUS = range(5)
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
TRIAGE_ROLE = Qt.ItemDataRole.UserRole + 2
_Index = QModelIndex | QPersistentModelIndex
ICON_SIDE = 48
ICON_CACHE = 200
# Films the reader did not open: they are listed (newest first, above the opened ones) and marked by where they
# came from, and never shown on screen until the reader clicks them.
ARRIVED = {"received": "Received", "retrieved": "Retrieved"}


@dataclass
class StudyRow:
    path: Path
    state: str = "queued"  # queued, done, rejected, error, cancelled
    record: dict[str, Any] = field(default_factory=dict)
    thumbnail_array: np.ndarray | None = None  # small gray copy: list icon and batch PDF
    detail: str = ""
    origin: str = "opened"  # "opened" by the reader, or an ARRIVED key
    metadata: dict[str, Any] | None = None  # header fields the row is named by (gui/phi.row_label)
    unseen: bool = False  # arrived and not yet shown: drawn bold until the reader clicks it

    def warnings(self, hide_phi: bool) -> list[str]:
        """Everything that qualifies this row's score (the record's ``warnings``, from core.score_warnings)."""
        return phi_safe_warnings(self.record) if hide_phi else [str(w) for w in self.record.get("warnings") or []]

    @property
    def probability(self) -> float | None:
        value = self.record.get("probability")
        return None if value is None else float(value)

    def triage(self) -> tuple[int, float]:
        # Unfinished rows sort after every finished one.
        return triage_key(self.record) if self.finished else (3, 0.0)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "rejected", "error")


class StudyListModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[StudyRow] = []
        self.hide_phi = False
        # Icons only for rows on screen: a pixmap per row of a 1,000-file batch would cost ~9 MB.
        self._icons: OrderedDict[int, QPixmap] = OrderedDict()
        self._affixes: list[tuple[int, int]] | None = None  # name_elide.shared_affixes of the names shown

    def _icon(self, number: int, row: StudyRow) -> QPixmap | None:
        if row.thumbnail_array is None:
            return None
        icon = self._icons.get(number)
        if icon is None:
            # Rendered at the screen's pixel density, so thumbnails stay sharp on high-DPI screens.
            screen = QGuiApplication.primaryScreen()
            ratio = screen.devicePixelRatio() if screen is not None else 1.0
            side = round(ICON_SIDE * ratio)
            image = gray_qimage(row.thumbnail_array).scaled(
                side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
            icon = QPixmap.fromImage(image)
            icon.setDevicePixelRatio(ratio)
            self._icons[number] = icon
            if len(self._icons) > ICON_CACHE:
                self._icons.popitem(last=False)
        else:
            self._icons.move_to_end(number)
        return icon

    def reset(self, paths: list[Path]) -> None:
        """A set the reader opened replaces the opened rows; films that arrived over the network stay listed
        (a new folder must not make a received patient disappear)."""
        self.beginResetModel()
        self._icons.clear()
        self._affixes = None
        kept = [row for row in self.rows if row.origin != "opened"]
        known = {row.path for row in kept}
        self.rows = kept + [StudyRow(Path(p)) for p in dict.fromkeys(Path(p) for p in paths) if Path(p) not in known]
        for row in kept:
            if row.path in {Path(p) for p in paths}:
                row.state, row.record, row.detail = "queued", {}, ""
        self.endResetModel()

    def add(self, paths: list[Path], origin: str) -> None:
        """Arrived films go on top, in the order given (newest first); one already listed is scored again in
        its row (the same instance sent again). No existing row moves out from under the selection."""
        listed = {row.path: number for number, row in enumerate(self.rows)}
        new = [Path(p) for p in dict.fromkeys(Path(p) for p in paths) if Path(p) not in listed]
        for path in paths:
            number = listed.get(Path(path))
            if number is not None:
                row = self.rows[number]
                row.state, row.record, row.detail, row.origin, row.unseen = "queued", {}, "", origin, True
                self.dataChanged.emit(self.index(number, 0), self.index(number, len(COLUMNS) - 1))
        if not new:
            return
        self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
        self._icons.clear()  # keyed by row number, which just moved
        self._affixes = None
        self.rows[:0] = [StudyRow(path, origin=origin, unseen=True) for path in new]
        self.endInsertRows()

    def row_of(self, path: Path) -> int | None:
        path = Path(path)
        return next((number for number, row in enumerate(self.rows) if row.path == path), None)

    def mark_seen(self, path: Path) -> None:
        number = self.row_of(path)
        if number is not None and self.rows[number].unseen:
            self.rows[number].unseen = False
            self.dataChanged.emit(self.index(number, 0), self.index(number, len(COLUMNS) - 1))

    def unseen_count(self) -> int:
        return sum(row.unseen for row in self.rows)

    def set_hide_phi(self, hide: bool) -> None:
        self.hide_phi = hide
        self._affixes = None
        if self.rows:
            self.dataChanged.emit(self.index(0, NAME), self.index(len(self.rows) - 1, STATUS))

    def set_result(self, index: int, record: dict[str, Any], thumbnail: np.ndarray | None,
                   error: str | None, metadata: dict[str, Any] | None = None) -> None:
        if not 0 <= index < len(self.rows):
            return
        row = self.rows[index]
        row.record = dict(record)
        if metadata:
            row.metadata = metadata
            self._affixes = None
        if self.hide_phi:
            self._affixes = None  # the hidden name carries the file's hash, known only now
        if thumbnail is not None:
            row.thumbnail_array = thumbnail
        rejected = record.get("rejected")
        if error:
            # Load errors start with the file's name; the row says the reason (the name is in its tooltip).
            prefix = f"{row.path.name}: "
            row.state, row.detail = "error", error[len(prefix):] if error.startswith(prefix) else error
        elif rejected:
            row.state, row.detail = "rejected", f"Not scored: {rejected['reason']}"
        else:
            row.state, row.detail = "done", ""
        self.dataChanged.emit(self.index(index, 0), self.index(index, len(COLUMNS) - 1))

    def mark_cancelled(self) -> None:
        for row in self.rows:
            if row.state == "queued":
                row.state = "cancelled"
        if self.rows:
            self.dataChanged.emit(self.index(0, STATUS), self.index(len(self.rows) - 1, STATUS))

    def finished_records(self) -> list[dict[str, Any]]:
        return [row.record for row in self.rows if row.finished]

    def counts(self) -> dict[str, int]:
        out = {"done": 0, "rejected": 0, "error": 0, "queued": 0, "cancelled": 0}
        for row in self.rows:
            out[row.state] += 1
        return out

    # ----- Qt model interface ----------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt override
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt override
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt override
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role in (Qt.ItemDataRole.DisplayRole,
                                                                 Qt.ItemDataRole.AccessibleTextRole):
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], index.column()
        if role == PATH_ROLE:
            return str(row.path)
        if role == TRIAGE_ROLE:
            return row.triage()
        if role == Qt.ItemDataRole.AccessibleTextRole and column == STATUS and row.record.get("warnings"):
            count = len(row.record["warnings"])  # what the warning icon says to a screen reader
            return f"{self._text(index.row(), row, column)}, {count} warning{'' if count == 1 else 's'}"
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(index.row(), row, column)
        if role == Qt.ItemDataRole.DecorationRole and column == THUMB:
            return self._icon(index.row(), row)
        if role == Qt.ItemDataRole.DecorationRole and column == STATUS and row.record.get("warnings"):
            return _warning_icon()
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(index.row(), row)
        if role == Qt.ItemDataRole.FontRole and row.unseen:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and column == STATUS and row.state == "error":
            return QBrush(QColor(200, 40, 40))
        if role == Qt.ItemDataRole.TextAlignmentRole and column == PROBABILITY:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def affixes(self, number: int) -> tuple[int, int]:
        """The prefix and suffix this row's shown name shares with other rows (what may be elided)."""
        if self._affixes is None:
            self._affixes = shared_affixes([self._text(i, row, NAME) for i, row in enumerate(self.rows)])
        return self._affixes[number] if 0 <= number < len(self._affixes) else (0, 0)

    def _tooltip(self, number: int, row: StudyRow) -> str:
        """The full name (not with hide-PHI: then the label), why there is no score, and every warning."""
        name = self._text(number, row, NAME) if self.hide_phi else str(row.path.name)
        lines = [name, scrub(row.detail, row.path, self.hide_phi)]
        if row.unseen:
            lines.append(f"{ARRIVED.get(row.origin, 'Arrived')}, not shown yet: click to show it")
        lines += [f"⚠ {w}" for w in row.warnings(self.hide_phi)]
        return "\n".join(line for line in lines if line)

    def _text(self, number: int, row: StudyRow, column: int) -> str:
        if column == THUMB:
            return ""
        if column == NAME:
            if row.origin in ARRIVED:  # where it came from is its status ("received"), never elided away
                return row_label(row.metadata, self.hide_phi) or file_label(
                    row.path, row.record.get("file_sha256"), self.hide_phi, number)
            return file_label(row.path, row.record.get("file_sha256"), self.hide_phi, number)
        if column == PROBABILITY:
            p = row.probability
            return "" if p is None else percent(p)
        if column == LABEL:
            return row.record.get("label") or ""
        if row.state == "queued":
            return "waiting…"
        if row.state == "cancelled":
            return "cancelled"
        if row.state == "done":
            return ARRIVED[row.origin].lower() if row.origin in ARRIVED else "done"
        return scrub(row.detail, row.path, self.hide_phi)


_WARNING_ICON: list[QPixmap] = []
WARNING_SIDE = 16


def _warning_icon() -> QPixmap:
    # A pixmap, not an icon: the delegate draws a pixmap at its own size, where an icon would grow to the
    # thumbnails' 48 px and leave the status word no room ("r…d" for "received").
    if not _WARNING_ICON:
        icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        screen = QGuiApplication.primaryScreen()
        ratio = screen.devicePixelRatio() if screen is not None else 1.0
        pixmap = icon.pixmap(round(WARNING_SIDE * ratio))
        pixmap.setDevicePixelRatio(ratio)
        _WARNING_ICON.append(pixmap)
    return _WARNING_ICON[0]


class TriageProxy(QSortFilterProxyModel):
    """Sorting the probability column orders most likely pneumonia first, then rejected, then errors."""

    def lessThan(self, left: _Index, right: _Index) -> bool:  # noqa: N802 - Qt override
        if left.column() == PROBABILITY:
            return left.data(TRIAGE_ROLE) < right.data(TRIAGE_ROLE)
        return str(left.data()) < str(right.data())
