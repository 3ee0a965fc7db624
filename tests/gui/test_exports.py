"""Ctrl+E, batch PDF and CSV from the window: chosen path, overwrite question, never into input folders."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from pneumo_desktop import DISCLAIMER
from pneumo_desktop.core.records import read_csv
from pneumo_desktop.gui.export_flow import Exporter
from tests.core import dicom_factory
from tests.gui.conftest import WAIT_MS, study_folder


class Dialogs:
    """Stands in for the file dialog and the message boxes."""

    def __init__(self, answer: Path | None, confirm: bool = True) -> None:
        self.answer, self.confirm_answer = answer, confirm
        self.suggested: list[str] = []
        self.questions: list[str] = []
        self.messages: list[str] = []
        self.captions: list[str] = []

    def ask_path(self, _parent, caption: str, suggested: str, _filter: str) -> str:
        self.suggested.append(suggested)
        self.captions.append(caption)
        return str(self.answer) if self.answer else ""

    def confirm(self, _parent, question: str) -> bool:
        self.questions.append(question)
        return self.confirm_answer

    def inform(self, _parent, message: str) -> None:
        self.messages.append(message)


def _exporter(window, dialogs: Dialogs) -> Exporter:
    exporter = Exporter(window, window.controller, window.settings, window.study_list, ask_path=dialogs.ask_path,
                        confirm=dialogs.confirm, inform=dialogs.inform)
    return exporter


def _finish_task(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.controller.busy(), timeout=WAIT_MS)


def _pdf_text(path: Path) -> tuple[str, str]:
    reader = PdfReader(str(path))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text, " ".join(str(v) for v in (reader.metadata or {}).values())


@pytest.fixture
def shown_dicom(qtbot, window, tmp_path: Path) -> Path:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    path = dicom_factory.write(dicom_factory.make_dataset(dicom_factory.gradient(128, 112)), inputs / "case.dcm")
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.open_paths([path])
    return path


@pytest.mark.parametrize("hide_phi", [False, True])
def test_ctrl_e_writes_the_report_of_the_image_on_screen(qtbot, window, shown_dicom, tmp_path, hide_phi) -> None:
    out = tmp_path / "out" / "report.pdf"
    out.parent.mkdir()
    dialogs = Dialogs(out)
    window.set_hide_phi(hide_phi)
    _exporter(window, dialogs).export_report()
    _finish_task(qtbot, window)
    text, metadata = _pdf_text(out)
    prediction = window.controller.current_result.prediction
    assert prediction.label in text
    assert f"{100 * prediction.probability:.1f}" in text
    assert DISCLAIMER.split(";")[0] in " ".join(text.split())
    suggested = Path(dialogs.suggested[0])
    assert suggested.parent != shown_dicom.parent  # default folder is not the input folder
    leaked = [v for v in ("Test^Synthetic", "Synthetic", "SYN-001", "ACC42", "Test Hospital", "case.dcm")
              if v in text or v in metadata or v in suggested.name]
    if hide_phi:
        assert leaked == []
        assert not [v for v in ("Synthetic", "case.dcm") if v in dialogs.captions[0]]
        assert "sha256" in dialogs.captions[0]
    else:
        assert "Synthetic" in text
        # The dialog names the film on screen (issue 24 A1): patient, study and file.
        assert "Test, Synthetic" in dialogs.captions[0] and "case.dcm" in dialogs.captions[0]


def test_overwrite_is_asked_and_a_no_keeps_the_file(qtbot, window, shown_dicom, tmp_path) -> None:
    out = tmp_path / "existing.pdf"
    out.write_bytes(b"keep me")
    dialogs = Dialogs(out, confirm=False)
    _exporter(window, dialogs).export_report()
    _finish_task(qtbot, window)
    assert dialogs.questions == ["existing.pdf already exists. Replace it?"]
    assert out.read_bytes() == b"keep me"
    dialogs.confirm_answer = True
    _exporter(window, dialogs).export_report()
    _finish_task(qtbot, window)
    assert out.read_bytes().startswith(b"%PDF")


def test_exports_never_go_into_an_input_folder(qtbot, window, shown_dicom) -> None:
    dialogs = Dialogs(shown_dicom.parent / "report.pdf")
    _exporter(window, dialogs).export_report()
    _finish_task(qtbot, window)
    assert "not saved into a folder the images were opened from" in dialogs.messages[0]
    assert sorted(p.name for p in shown_dicom.parent.iterdir()) == ["case.dcm"]


def test_batch_csv_and_summary_pdf(qtbot, window, tmp_path) -> None:
    folder = study_folder(tmp_path, 4, {"broken.png": b"\x89PNG\r\n\x1a\n"})
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS):
        window.open_paths([folder])
    listing = sorted(p.name for p in folder.iterdir())
    out = tmp_path / "exports"
    out.mkdir()
    window.study_list.sort_by_probability()
    _exporter(window, Dialogs(out / "batch")).export_csv()  # the suffix is added
    _finish_task(qtbot, window)
    records = read_csv(io.StringIO((out / "batch.csv").read_text(encoding="utf-8")))
    assert len(records) == 5
    probabilities = [r["probability"] for r in records if r["probability"] is not None]
    assert probabilities == sorted(probabilities, reverse=True)
    assert records[-1]["error"] and "broken.png" in records[-1]["path"]

    _exporter(window, Dialogs(out / "summary.pdf")).export_batch_pdf()
    _finish_task(qtbot, window)
    text, _ = _pdf_text(out / "summary.pdf")
    assert "5 images" in text and "failed" in text
    assert sorted(p.name for p in folder.iterdir()) == listing  # nothing written into the input folder


def test_csv_with_hide_phi_carries_no_file_names(qtbot, window, tmp_path) -> None:
    folder = study_folder(tmp_path, 2)
    window.set_hide_phi(True)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=WAIT_MS):
        window.open_paths([folder])
    out = tmp_path / "private.csv"
    _exporter(window, Dialogs(out)).export_csv()
    _finish_task(qtbot, window)
    text = out.read_text(encoding="utf-8")
    assert "studies" not in text and ".jpg" not in text and "sha256" in text
