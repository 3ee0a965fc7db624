"""Shared fixtures: a patient-named folder of DICOMs full of PHI, and one run of the real GUI on it."""

from __future__ import annotations

import importlib.util
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES
from tests.core import dicom_factory as factory
from tests.robustness.app_process import Watched, run_watched

PATIENT_NAME = "Doe^Jane"
PATIENT_ID = "PID-12345"
BIRTH_DATE = "19800215"
ACCESSION = "ACC-777-JD"
INSTITUTION = "Saint Jane Infirmary"
PHI_FOLDER_NAME = "Jane_Doe_PID-12345"
# Anything here in a log line, an error message or the audit log is a leak. (Short numeric pieces such as
# "12345" are left out: they turn up by chance in the sha256 hex digests the logs rightly carry.)
PHI_STRINGS = (PATIENT_NAME, "Jane", PATIENT_ID, BIRTH_DATE, ACCESSION, INSTITUTION, PHI_FOLDER_NAME)
SAMPLE = next(iter(sorted(SAMPLES.glob("NORMAL/*.jpeg"))), None)
HAS_QT = importlib.util.find_spec("PySide6") is not None
APP_PY = REPO / "pneumo_desktop" / "app.py"
# The GUI must show its window, load the model and score both inputs within this (a cold torch import on
# a busy two-core machine takes ~10 s).
GUI_MAX_S = 90.0


def phi_leaks(text: str, *, extra: tuple[str, ...] = ()) -> list[str]:
    return [s for s in (*PHI_STRINGS, *extra) if s in text]


def write_phi_dicoms(folder: Path) -> tuple[Path, Path]:
    """A good CR image and a truncated one, both carrying the patient's identifiers."""
    folder.mkdir(parents=True, exist_ok=True)
    tags = dict(PatientName=PATIENT_NAME, PatientID=PATIENT_ID, PatientBirthDate=BIRTH_DATE,
                AccessionNumber=ACCESSION, InstitutionName=INSTITUTION,
                OtherPatientIDs=PATIENT_ID, PatientComments=f"{PATIENT_NAME} born {BIRTH_DATE}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about the tags' lengths; that is not under test here
        ds = factory.make_dataset(factory.gradient(256, 224, high=4095), bits_stored=12, WindowCenter=2048,
                                  WindowWidth=4096, **tags)
        good = factory.write(ds, folder / "chest.dcm")
    data = good.read_bytes()
    broken = folder / "broken.dcm"
    broken.write_bytes(data[: len(data) - 5000])
    return good, broken


@pytest.fixture(scope="session")
def phi_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("patients") / PHI_FOLDER_NAME
    write_phi_dicoms(folder)
    return folder


@dataclass
class GuiRun:
    watched: Watched
    home: Path
    log_text: str
    audit_lines: list[dict[str, object]]


def _audit_lines(home: Path) -> list[dict[str, object]]:
    target = home / "state" / "audit.jsonl"
    if not target.exists():
        return []
    return [json.loads(line) for line in target.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def gui_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, phi_folder: Path) -> GuiRun:
    """``python -m pneumo_desktop SAMPLE PHI_FOLDER`` offscreen, watched until both valid inputs are
    scored (two audit lines), then terminated."""
    if not APP_PY.exists():
        pytest.skip("pneumo_desktop/app.py (the GUI entry point) is not there yet")
    if not HAS_QT:
        pytest.skip("PySide6 is not installed")
    if SAMPLE is None:
        pytest.skip("shared sample images not present")
    home = tmp_path_factory.mktemp("gui_home")
    log = home / "state" / "pneumo_desktop.log"
    env = {"QT_QPA_PLATFORM": "offscreen", "PNEUMO_DESKTOP_HOME": str(home),
           "PNEUMO_DESKTOP_MODELS": str(tiny_model_dir)}
    watched = run_watched(
        [str(SAMPLE), str(phi_folder)], env,
        ready=lambda: log.exists() and "started" in log.read_text(errors="replace"),
        done=lambda: len(_audit_lines(home)) >= 2,
        max_s=GUI_MAX_S,
        # Watched for a while after the last score too: the model now loads and scores in about a second, and a
        # library that reports home (ONNX Runtime's telemetry, switched off in core/runtime.py) would do it later.
        linger_s=3.0,
    )
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return GuiRun(watched, home, text, _audit_lines(home))
