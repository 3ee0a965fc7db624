"""A warning that qualifies a score goes wherever the score goes: panel, status bar, study list (icon and
tooltip), CSV, single and batch PDF; with hide-PHI the age warning stays, without the age."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from pneumo_desktop.core.records import read_csv
from pneumo_desktop.gui.study_model import STATUS
from tests.core import dicom_factory
from tests.gui.conftest import WAIT_MS
from tests.gui.test_exports import Dialogs, _exporter, _finish_task, _pdf_text

AGE_WARNING = "outside the model's intended 1-5 years"


def _adult(folder: Path, name: str = "adult.dcm", age: str = "062Y") -> Path:
    folder.mkdir(exist_ok=True)
    ds = dicom_factory.make_dataset(dicom_factory.gradient(128, 112), PatientAge=age)
    return dicom_factory.write(ds, folder / name)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_age_warning_is_in_the_panel_and_status_bar_and_stays(qtbot, window, tmp_path: Path) -> None:
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([_adult(tmp_path / "in")])
    panel = window.prediction_panel
    assert panel.warning.isVisible()
    assert "Patient age 62.0 years" in panel.warning.text() and AGE_WARNING in panel.warning.text()
    assert window.warning_label.isVisible() and "62.0 years" in window.warning_label.toolTip()
    assert AGE_WARNING in window.statusBar().currentMessage()
    window.statusBar().clearMessage()  # what a timed-out status message leaves: the panel and sign remain
    qtbot.wait(50)
    assert AGE_WARNING in panel.warning.text() and window.warning_label.isVisible()

    window.set_hide_phi(True)
    assert AGE_WARNING in panel.warning.text() and "62.0" not in panel.warning.text()
    assert "62.0" not in window.warning_label.toolTip()


def test_a_film_without_warnings_shows_none(qtbot, window, tmp_path: Path) -> None:
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([_adult(tmp_path / "in", age="003Y")])
    assert window.prediction_panel.warning.isHidden() and window.warning_label.isHidden()


@pytest.mark.parametrize("hide_phi", [False, True])
def test_the_warning_reaches_the_list_csv_and_both_pdfs(qtbot, window, tmp_path: Path, hide_phi: bool) -> None:
    inputs = tmp_path / "in"
    files = [_adult(inputs, "adult.dcm"), _adult(inputs, "child.dcm", age="004Y")]
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS):
        window.open_paths(files)
    window.set_hide_phi(hide_phi)
    model = window.study_list.model
    adult = next(r for r, row in enumerate(model.rows) if row.path.name == "adult.dcm")
    child = 1 - adult
    assert model.index(adult, STATUS).data(Qt.ItemDataRole.DecorationRole) is not None
    assert model.index(child, STATUS).data(Qt.ItemDataRole.DecorationRole) is None
    tooltip = model.index(adult, STATUS).data(Qt.ItemDataRole.ToolTipRole)
    assert AGE_WARNING in tooltip and ("62.0" in tooltip) is not hide_phi
    assert "1 warning" in model.index(adult, STATUS).data(Qt.ItemDataRole.AccessibleTextRole)

    out = tmp_path / "out"
    out.mkdir()
    _exporter(window, Dialogs(out / "list.csv")).export_csv()
    _finish_task(qtbot, window)
    with open(out / "list.csv", encoding="utf-8") as stream:
        records = read_csv(stream)
    warned = [r for r in records if r["warnings"]]
    assert len(warned) == 1 and AGE_WARNING in warned[0]["warnings"][0]
    assert ("62.0" in warned[0]["warnings"][0]) is not hide_phi

    _exporter(window, Dialogs(out / "batch.pdf")).export_batch_pdf()
    _finish_task(qtbot, window)
    text = _flat(_pdf_text(out / "batch.pdf")[0])
    assert AGE_WARNING in text and ("62.0" in text) is not hide_phi

    window.study_list.table.selectRow(window.study_list.proxy.mapFromSource(model.index(adult, 0)).row())
    qtbot.waitUntil(lambda: window.controller.current_result is not None
                    and window.controller.current.image.path.name == "adult.dcm", timeout=WAIT_MS)
    _exporter(window, Dialogs(out / "single.pdf")).export_report()
    _finish_task(qtbot, window)
    text = _flat(_pdf_text(out / "single.pdf")[0])
    assert AGE_WARNING in text and ("62.0" in text) is not hide_phi


def test_a_dicom_without_an_age_gets_the_population_caution_in_panel_and_list(qtbot, window,
                                                                               tmp_path: Path) -> None:
    """Issue 24 B7: the caution travels like the age warning (panel, status sign, list row); a raster film,
    which never carries an age, does not get it."""
    folder = tmp_path / "in"
    folder.mkdir()
    ds = dicom_factory.make_dataset(dicom_factory.gradient(128, 112))
    for keyword in ("PatientAge", "PatientBirthDate"):
        if keyword in ds:
            delattr(ds, keyword)
    film = dicom_factory.write(ds, folder / "no_age.dcm")
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([film])
    assert "Age unknown" in window.prediction_panel.warning.text()
    assert "Age unknown" in window.warning_label.toolTip()
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS):
        window.open_paths([film, _adult(folder, "child.dcm", age="004Y")])
    rows = {row.path.name: row for row in window.study_list.model.rows}
    assert any(w.startswith("Age unknown") for w in rows["no_age.dcm"].record["warnings"])
    assert rows["child.dcm"].record["warnings"] == []
