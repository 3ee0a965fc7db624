"""The batch study list: thumbnails, probabilities and errors as they arrive, progress with ETA, Cancel,
triage sort and exports. Selecting a row asks for that image to be shown."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelection, QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pneumo_desktop.gui.name_elide import distinguishing_elide
from pneumo_desktop.gui.study_model import (
    ICON_SIDE,
    LABEL,
    NAME,
    PATH_ROLE,
    PROBABILITY,
    STATUS,
    THUMB,
    StudyListModel,
    StudyRow,
    TriageProxy,
)


def format_eta(seconds: float) -> str:
    if seconds < 0:
        return "estimating time left…"
    if seconds < 60:
        return f"about {max(seconds, 1):.0f} s left"
    return f"about {seconds / 60:.0f} min left"


class NameDelegate(QStyledItemDelegate):
    """Draws the name column elided where names are alike, never where they differ (gui/name_elide.py)."""

    def __init__(self, model: StudyListModel, proxy: TriageProxy, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model, self._proxy = model, proxy

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802 - Qt override
        super().initStyleOption(option, index)
        if index.column() != NAME or not option.text:
            return
        prefix, suffix = self._model.affixes(self._proxy.mapToSource(self._proxy.index(index.row(), 0)).row())
        metrics = option.fontMetrics
        width = option.rect.width() - 2 * (self._margin(option) + 1)
        option.text = distinguishing_elide(
            option.text, prefix, suffix, lambda text: metrics.horizontalAdvance(text) <= width,
            lambda text: metrics.elidedText(text, Qt.TextElideMode.ElideRight, width))

    @staticmethod
    def _margin(option: QStyleOptionViewItem) -> int:
        style = option.widget.style() if option.widget is not None else QApplication.style()
        return style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, option, option.widget) + 1


class StudyList(QWidget):
    image_selected = Signal(object)  # Path
    cancel_requested = Signal()
    export_csv_requested = Signal()
    export_pdf_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Study list")
        self.model = StudyListModel(self)
        self.proxy = TriageProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Studies")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.setIconSize(QSize(ICON_SIDE, ICON_SIDE))
        self.table.verticalHeader().setDefaultSectionSize(ICON_SIDE + 4)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setItemDelegateForColumn(NAME, NameDelegate(self.model, self.proxy, self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(THUMB, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(THUMB, ICON_SIDE + 8)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        # Fixed widths from the font, not ResizeToContents: that re-measures every row on every update and
        # turns a 1,000-file batch into seconds-long freezes.
        metrics = self.table.fontMetrics()
        # The status column also holds the 16 px warning icon.
        for column, sample, pad in ((PROBABILITY, "Probability", 30), (LABEL, "PNEUMONIA", 14), (STATUS, "cancelled", 36)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, metrics.horizontalAdvance(sample) + pad)
        header.setMinimumSectionSize(24)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.clicked.connect(self._on_clicked)
        self._shown: Path | None = None  # the file the viewer shows (or is loading)
        self._exported: set[Path] = set()  # rows whose result is in a saved CSV or summary PDF
        self._following = False

        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Batch progress")
        self.progress.setFormat("%v / %m")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setVisible(False)  # until a batch starts: an idle "0 / 1" reads as a stuck batch
        self.eta = QLabel(self)
        self.eta.setAccessibleName("Time left")
        self.summary = QLabel(self)
        self.summary.setAccessibleName("Batch summary")
        self.cancel_button = self._button("&Cancel", "Stop the batch; results so far are kept", self.cancel_requested)
        self.sort_button = self._button("&Triage sort", "Most likely pneumonia first", None)
        self.sort_button.clicked.connect(self.sort_by_probability)
        self.csv_button = self._button("Export CS&V…", "Save this list as CSV", self.export_csv_requested)
        self.pdf_button = self._button("Summary &PDF…", "Save a one-page-per-batch PDF summary",
                                       self.export_pdf_requested)

        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.cancel_button)
        info = QHBoxLayout()
        info.addWidget(self.eta)
        info.addStretch(1)
        info.addWidget(self.summary)
        buttons = QHBoxLayout()
        for button in (self.sort_button, self.csv_button, self.pdf_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addLayout(info)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.set_running(False)
        self._update_exports()

    def _button(self, text: str, tip: str, signal: Signal | None) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.setAccessibleName(text.replace("&", "").rstrip("…"))
        if signal is not None:
            button.clicked.connect(signal.emit)
        return button

    def minimum_width(self) -> int:
        """Thumbnail, a readable name and the fixed columns side by side, with the scroll bar and margins."""
        header = self.table.horizontalHeader()
        fixed = sum(header.sectionSize(c) for c in (THUMB, PROBABILITY, LABEL, STATUS))
        name = self.table.fontMetrics().horizontalAdvance("Image 100 ·")  # long names elide to what differs
        scroll_bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return fixed + name + scroll_bar + 16

    # ----- batch lifecycle ------------------------------------------------------------------------------
    def start(self, paths: list[Path]) -> None:
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # arrival order until asked to sort
        self.model.reset(paths)
        self.progress.setRange(0, max(len(paths), 1))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.eta.setText(format_eta(-1))
        self.summary.clear()
        self.set_running(True)
        self._update_exports()

    def add(self, paths: list[Path], origin: str) -> None:
        """Films that arrived (study_model.ARRIVED) join the list on top; the selection stays on the film the
        viewer shows, so nothing the reader looks at changes."""
        self._following = True
        try:
            self.model.add(paths, origin)
        finally:
            self._following = False
        self.eta.setText(format_eta(-1))
        self.set_running(True)
        self._update_exports()

    def set_result(self, index: int, record: dict, thumbnail: object, error: str | None,
                   metadata: dict | None = None) -> None:
        self.model.set_result(index, record, thumbnail, error, metadata)  # type: ignore[arg-type]
        self._update_exports()
        self._update_summary()

    def set_result_for(self, path: Path, record: dict, thumbnail: object, error: str | None,
                       metadata: dict | None = None) -> None:
        """A batch result, to the row that lists its file (rows are found by file: arrivals move the others)."""
        row = self.model.row_of(path)
        if row is not None:
            self.set_result(row, record, thumbnail, error, metadata)

    def select_path(self, path: Path) -> None:
        """Select the row of ``path`` (which shows it, as a click would)."""
        row = self.model.row_of(path)
        if row is not None:
            self.table.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())

    def set_progress(self, done: int, total: int, eta_seconds: float) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.eta.setText(format_eta(eta_seconds) if done < total else "")

    def finish(self, cancelled: bool) -> None:
        self.set_running(False)
        counts = self.model.counts()
        self.eta.setText("Cancelled" if cancelled else "Finished")
        if cancelled:
            self.progress.setValue(self.model.rowCount() - counts["queued"])
            self.model.mark_cancelled()
        self._update_summary()

    def set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)

    def _update_summary(self) -> None:
        c = self.model.counts()
        parts = [f"{c['done']} scored"]
        if c["rejected"]:
            parts.append(f"{c['rejected']} not scored")
        if c["error"]:
            parts.append(f"{c['error']} failed")
        if c["cancelled"]:
            parts.append(f"{c['cancelled']} cancelled")
        self.summary.setText(", ".join(parts))

    def _update_exports(self) -> None:
        has_results = bool(self.model.finished_records())
        self.csv_button.setEnabled(has_results)
        self.pdf_button.setEnabled(has_results)

    # ----- selection and sorting -----------------------------------------------------------------------
    def sort_by_probability(self) -> None:
        self.table.sortByColumn(PROBABILITY, Qt.SortOrder.AscendingOrder)

    def select_row(self, row: int) -> None:
        """Select the ``row``-th row as displayed (after sorting)."""
        self.table.selectRow(row)

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if indexes and not self._following:
            self._emit_path(indexes[0])

    def _on_clicked(self, index: QModelIndex) -> None:
        """A click on the row that is already selected changes no selection, yet must show that row's image."""
        self._emit_path(index)

    def _emit_path(self, index: QModelIndex) -> None:
        path = index.data(PATH_ROLE)
        if path and Path(path) != self._shown:
            self.image_selected.emit(Path(path))

    def follow(self, path: Path | None) -> None:
        """The viewer now shows ``path``: select its row, or no row when it is not in the list (Ctrl+O of
        another file), so the highlight never points at an image that is not on screen."""
        self._shown = Path(path) if path is not None else None
        row = self.model.row_of(self._shown) if self._shown is not None else None
        if self._shown is not None:
            self.model.mark_seen(self._shown)
        self._following = True
        try:
            if row is None:
                self.table.clearSelection()
                self.table.selectionModel().clearCurrentIndex()
            else:
                index = self.proxy.mapFromSource(self.model.index(row, NAME))
                self.table.selectRow(index.row())
                self.table.scrollTo(index)
        finally:
            self._following = False

    def mark_exported(self, paths: list[Path]) -> None:
        self._exported |= {Path(p) for p in paths}

    def unexported_count(self) -> int:
        """Results in the list that no saved CSV or summary PDF holds: what quitting would lose."""
        return sum(row.finished and row.path not in self._exported for row in self.model.rows)

    def ordered_rows(self) -> list[StudyRow]:
        """Rows in the order shown (after any sort)."""
        return [self.model.rows[self.proxy.mapToSource(self.proxy.index(r, 0)).row()]
                for r in range(self.proxy.rowCount())]

    def set_hide_phi(self, hide: bool) -> None:
        self.model.set_hide_phi(hide)
