"""No PHI in logs, error messages or the audit log: no patient name, id, birth date, accession number or
institution, and no full paths (folders are often named after patients: only basenames or hashes).

The inputs are DICOMs carrying all of those, in a folder named after the patient (conftest.phi_folder).
The JSON records on stdout do carry the path as given: that is the user's own output, not a log.
"""

from __future__ import annotations

import importlib
import json
import logging
from pathlib import Path

import pytest

from pneumo_desktop import launcher
from pneumo_desktop.core import audit
from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.loader import load_image
from tests.robustness.conftest import (
    PATIENT_ID,
    PATIENT_NAME,
    PHI_FOLDER_NAME,
    GuiRun,
    phi_leaks,
)

# Imported first so that their loggers exist and can be set to DEBUG below.
_CLI_MODULES = (
    "pneumo_desktop.cli", "pneumo_desktop.cli.predict", "pneumo_desktop.cli.report", "pneumo_desktop.core.read_ahead", "pneumo_desktop.core.scoring",
    "pneumo_desktop.core.loader", "pneumo_desktop.core.dicom_reader", "pneumo_desktop.core.raster_reader",
    "pneumo_desktop.core.library_warnings", "pneumo_desktop.core.collect", "pneumo_desktop.core.audit",
    "pneumo_desktop.core.predictor",
)


@pytest.fixture()
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every pneumo_desktop logger at DEBUG. The CLI sets the package logger to INFO while it runs; a
    child logger's own level wins over its parent's, so each module logger is set explicitly."""
    for name in _CLI_MODULES:
        importlib.import_module(name)
    caplog.set_level(logging.DEBUG)
    for name in [n for n in logging.root.manager.loggerDict if n.startswith("pneumo_desktop")]:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_cli_logs_stderr_and_audit_carry_no_phi(
    phi_folder: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch,
    debug_logs: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PNEUMO_DESKTOP_MODELS", str(tiny_model_dir))
    missing = phi_folder / "not_there.dcm"
    code = launcher.main(["predict", str(phi_folder), str(missing), "--format", "jsonl"])
    out, err = capfd.readouterr()
    assert code == 1  # broken.dcm and the missing file failed; chest.dcm was scored
    records = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    assert records["chest.dcm"]["probability"] is not None
    assert records["broken.dcm"]["error"].startswith("broken.dcm: ")
    assert records["not_there.dcm"]["error"] == "not_there.dcm: no such file or folder"

    log_text = "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}"
                         for r in debug_logs.records)
    assert any(r.levelno == logging.DEBUG for r in debug_logs.records)  # DEBUG really was captured
    assert "broken.dcm" in log_text  # the failure is logged, by basename
    full = str(phi_folder.parent)
    assert phi_leaks(log_text, extra=(full,)) == []
    assert phi_leaks(err, extra=(full,)) == []
    audit_text = audit.audit_path().read_text()
    assert len(audit_text.splitlines()) == 1
    assert phi_leaks(audit_text, extra=(full, "chest.dcm")) == []
    # Nor do the failed records' error texts or the scored record's warnings (they are shown to people).
    for record in records.values():
        assert phi_leaks(json.dumps([record["error"], record["warnings"]])) == []


def test_load_errors_name_only_the_file(phi_folder: Path) -> None:
    for name in ("broken.dcm", "not_there.dcm"):
        with pytest.raises(ImageLoadError) as info:
            load_image(phi_folder / name)
        assert info.value.filename == name
        assert phi_leaks(str(info.value), extra=(str(phi_folder.parent),)) == []
    image = load_image(phi_folder / "chest.dcm")
    # The identifiers are read (the GUI shows them unless PHI is hidden) but never put into warnings.
    assert image.metadata["patient_name"] == PATIENT_NAME and image.metadata["patient_id"] == PATIENT_ID
    assert phi_leaks(" ".join(image.warnings)) == []


@pytest.mark.slow
def test_gui_log_and_audit_carry_no_phi(gui_run: GuiRun, phi_folder: Path) -> None:
    assert gui_run.log_text, "the GUI wrote no log"
    assert "started" in gui_run.log_text
    assert phi_leaks(gui_run.log_text, extra=(str(phi_folder.parent),)) == []
    audit_text = json.dumps(gui_run.audit_lines)
    assert phi_leaks(audit_text, extra=(str(phi_folder.parent), "chest.dcm")) == []
    assert PHI_FOLDER_NAME not in gui_run.watched.stderr
