"""Issue 24 A1: films that arrive (received over DICOM, retrieved from a PACS) are listed and announced, never
shown unasked; a study list holds several patients, named per row; a later open keeps the arrivals."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt

from pneumo_desktop.gui.study_model import NAME, PATH_ROLE, STATUS
from tests.conftest import DICOM_DIR
from tests.gui.conftest import WAIT_MS, kermany_files, sample

ARRIVING = [DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm", DICOM_DIR / "cr_mono1_15bit_j2k_lossy.dcm"]


def _selected(window) -> list[str]:
    return [i.data(PATH_ROLE) for i in window.study_list.table.selectionModel().selectedRows()]


def _settled(window, count: int) -> bool:
    rows = window.study_list.model.rows
    return len(rows) == count and all(r.finished for r in rows) and not window.controller.batch_running()


def test_retrieved_films_join_the_list_and_the_film_on_screen_stays(qtbot, window, tmp_path: Path) -> None:
    films = kermany_files(2)
    window.open_paths(films)
    qtbot.waitUntil(lambda: _settled(window, 2) and window.controller.current_result is not None, timeout=WAIT_MS)
    shown, result = window.controller.study.image.path, window.controller.current_result
    assert _selected(window) == [str(shown)]

    inbox = tmp_path / "retrieved"
    inbox.mkdir()
    arrived = [Path(shutil.copy(f, inbox / f.name)) for f in ARRIVING]
    window.dicom_commands._open_retrieved(inbox, arrived)
    qtbot.waitUntil(lambda: _settled(window, 4), timeout=WAIT_MS)
    qtbot.wait(200)
    assert window.controller.study.image.path == shown and window.controller.current_result is result
    assert _selected(window) == [str(shown)]
    rows = window.study_list.model.rows
    assert [r.path for r in rows[:2]] == arrived and all(r.origin == "retrieved" and r.unseen for r in rows[:2])
    names = [window.study_list.model.index(i, NAME).data() for i in range(2)]
    # Named as a reader knows them (patient, modality, body part, study date, series/instance), not by file;
    # marked by where they came from in the status column.
    assert names[1] == "CompressedSamples, RG1 · CR CHEST · 2004-08-26 · S1 I3", names
    assert names[0].startswith("Covid0000 · DX")
    assert [window.study_list.model.index(i, STATUS).data() for i in range(4)] == ["retrieved"] * 2 + ["done"] * 2
    assert window.study_list.model.index(0, NAME).data(Qt.ItemDataRole.FontRole).bold()
    said = window.statusBar().currentMessage()
    assert "2 retrieved films" in said and "unchanged" in said and "Click one" in said

    window.set_hide_phi(True)  # the patient goes from the row's name, the study stays
    assert window.study_list.model.index(1, NAME).data() == "CR CHEST · 2004-08-26 · S1 I3"
    window.set_hide_phi(False)

    # The reader clicks a retrieved row: only now is it shown, and it is no longer marked new.
    window.study_list.select_path(arrived[1])
    qtbot.waitUntil(lambda: window.controller.current_result is not None
                    and window.controller.study.image.path == arrived[1], timeout=WAIT_MS)
    assert not window.study_list.model.rows[1].unseen

    # Opening another set replaces the opened rows only: the retrieved patients stay listed.
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS):
        window.open_paths(kermany_files(3)[2:] + [sample()])
    assert [r.path for r in window.study_list.model.rows[:2]] == arrived
    assert len(window.study_list.model.rows) == 4


def test_films_arriving_during_a_batch_join_it_without_cancelling_it(qtbot, window, tmp_path: Path) -> None:
    files = kermany_files(12)
    window.open_paths(files)
    qtbot.waitUntil(lambda: window.controller.batch_running(), timeout=WAIT_MS)
    window.controller.add_files([ARRIVING[0]], "received")
    qtbot.waitUntil(lambda: _settled(window, 13), timeout=WAIT_MS * 2)
    rows = window.study_list.model.rows
    assert rows[0].path == ARRIVING[0] and rows[0].origin == "received"
    assert all(r.state == "done" or r.state == "rejected" for r in rows), [r.state for r in rows]
    assert window.study_list.eta.text() == "Finished"
