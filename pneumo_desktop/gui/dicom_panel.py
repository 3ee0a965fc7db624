"""Collapsible list of the metadata the loader extracted (patient fields dropped while hide-PHI is on)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pneumo_desktop.core.image import METADATA_KEYS
from pneumo_desktop.gui.phi import HIDDEN, dicom_date, person_name, visible_metadata

TITLE = "DICOM tags"
RASTER_TITLE = "File information"
NOT_DISPLAYABLE = "DICOM without a displayable image"
LOADING = "loading"  # the kind while a J2K preview is shown and the header is not read yet


# Names as DICOM and readers write them, where "capitalise the key" would not ("Sop class", "Voi").
_NAMES = {"patient_id": "Patient ID", "sop_class": "SOP class", "voi": "VOI (window source)",
          "age_years": "Age (years)", "age": "Patient's age", "birth_date": "Birth date"}


def _pretty(key: str) -> str:
    return _NAMES.get(key) or key.replace("_", " ").capitalize()


def _value(key: str, value: Any) -> str:
    if key == "patient_name":
        return person_name(value)
    if key in ("birth_date", "study_date"):
        return dicom_date(value)
    return str(value)


def _rows(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    # The loader's documented keys first, in its order, then anything extra it added.
    keys = [k for k in METADATA_KEYS if k in metadata] + sorted(k for k in metadata if k not in METADATA_KEYS)
    return [(_pretty(k), _value(k, metadata[k])) for k in keys if metadata[k] not in (None, "")]


class DicomPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("DICOM metadata panel")
        self.toggle = QToolButton(self)
        self.toggle.setText(TITLE)
        self.toggle.setCheckable(True)
        self.toggle.setChecked(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.toggle.setAutoRaise(True)
        self.toggle.setAccessibleName("Show or hide DICOM tags")
        self.toggle.setToolTip("Collapse or expand the DICOM tag list")
        self.toggle.toggled.connect(self.set_expanded)

        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Tag", "Value"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAccessibleName("DICOM tags")
        self.table.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle)
        layout.addWidget(self.table)
        self._metadata: dict[str, Any] = {}
        self._hide_phi = False
        self._kind = ""
        self._displayable = True

    def set_expanded(self, expanded: bool) -> None:
        self.toggle.setChecked(expanded)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.table.setVisible(expanded)

    def is_expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_metadata(self, metadata: dict[str, Any] | None, kind: str = "dicom", *, displayable: bool = True) -> None:
        """``displayable=False``: the header of a DICOM whose image could not be decoded (it is still a DICOM,
        and its tags say whose study it is)."""
        self._metadata = dict(metadata or {})
        self._kind = kind
        self._displayable = displayable
        self._refresh()

    def show_loading(self) -> None:
        """The film on screen is a first look (a J2K preview): its tags come with the full decode."""
        self.set_metadata(None, LOADING)

    def set_hide_phi(self, hide: bool) -> None:
        self._hide_phi = hide
        self._refresh()

    def values(self) -> dict[str, str]:
        return {self.table.item(r, 0).text(): self.table.item(r, 1).text() for r in range(self.table.rowCount())}

    def _refresh(self) -> None:
        rows = _rows(visible_metadata(self._metadata, self._hide_phi))
        if self._hide_phi and len(rows) < len(_rows(self._metadata)):
            rows.append(("Patient fields", HIDDEN))
        if not self._displayable:
            rows.insert(0, ("Image", NOT_DISPLAYABLE))
        if not rows:
            rows = [("", {"dicom": "No tags", LOADING: "Reading the header…"}.get(
                self._kind, "No DICOM tags (not a DICOM file)"))]
        self.table.setRowCount(len(rows))
        for r, (key, value) in enumerate(rows):
            for c, text in enumerate((key, value)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        self.toggle.setText(f"{TITLE} ({len(rows)})" if self._kind == "dicom" else TITLE if self._kind == LOADING
                            else RASTER_TITLE)
