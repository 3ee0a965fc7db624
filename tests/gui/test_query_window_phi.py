"""The Query/Retrieve window's list of found studies follows View ▸ Hide PHI like every other view: patient name,
ID and accession masked while it is on, shown again when it is turned off."""

from __future__ import annotations

from typing import Any

from pneumo_desktop.dicom_net.node_config import NodeConfig
from pneumo_desktop.dicom_net.nodes import DicomNode
from pneumo_desktop.dicom_net.query_retrieve import StudyMatch
from pneumo_desktop.gui.phi import HIDDEN
from pneumo_desktop.gui.query_retrieve_window import QueryRetrieveWindow

MATCH = StudyMatch(study_uid="1.2.3", patient_name="Yamada^Taro", patient_id="PID-7731", study_date="20261101",
                   accession_number="ACC-5521", description="Thorax p.a.")


def _answering(function: Any, on_done: Any, on_error: Any) -> None:
    on_done([MATCH])  # the PACS's answer, as the worker would deliver it


def _texts(window: QueryRetrieveWindow) -> list[str]:
    return [window.table.item(0, c).text() for c in range(window.table.columnCount())]


def test_found_studies_are_masked_while_hide_phi_is_on(qtbot) -> None:
    config = NodeConfig(remotes=(DicomNode("PACS", "127.0.0.1", 4242),))
    window = QueryRetrieveWindow(config, _answering, lambda folder, films: None, hide_phi=True)
    qtbot.addWidget(window)
    window.patient_id.setText("PID-7731")
    window.search()
    shown = _texts(window)
    assert "Yamada Taro" not in shown and "PID-7731" not in shown and "ACC-5521" not in shown
    assert shown.count(HIDDEN) == 3 and "Thorax p.a." in shown
    window.set_hide_phi(False)
    assert _texts(window)[:2] == ["Yamada Taro", "PID-7731"]


def test_the_window_follows_the_main_windows_toggle(qtbot, window) -> None:
    window.settings.dicom_nodes = NodeConfig(remotes=(DicomNode("PACS", "127.0.0.1", 4242),))
    query = window.dicom_commands.open_query_retrieve()
    qtbot.addWidget(query)
    query.matches = [MATCH]
    query.set_hide_phi(window.hide_phi())
    window.set_hide_phi(True)
    assert HIDDEN in _texts(query)
    window.set_hide_phi(False)
    assert "Yamada Taro" in _texts(query)
