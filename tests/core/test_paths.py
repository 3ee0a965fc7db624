"""paths.py finds models/ and resources/ in a checkout, a PyInstaller bundle and an installed wheel."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pneumo_desktop import paths
from tests.conftest import REPO


def test_source_checkout() -> None:
    assert paths.models_dir() == REPO / "models"
    assert paths.resources_dir() == REPO / "resources"


def test_pyinstaller_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.models_dir() == tmp_path / "models"
    assert paths.resources_dir() == tmp_path / "resources"


def test_installed_wheel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    site = tmp_path / "site-packages" / "pneumo_desktop"
    site.mkdir(parents=True)
    monkeypatch.setattr(paths, "__file__", str(site / "paths.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert paths.models_dir() == tmp_path / "share" / "pneumo_desktop" / "models"


def test_user_dirs_follow_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path))
    assert paths.state_dir() == tmp_path / "state" and paths.state_dir().is_dir()
    monkeypatch.setenv(paths.MODELS_ENV, str(tmp_path / "m"))
    assert paths.models_dir() == tmp_path / "m"


def test_an_uncreatable_home_is_reported_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13: the window did not start when PNEUMO_DESKTOP_HOME could not be created."""
    from pneumo_desktop.core import audit
    from pneumo_desktop.core.prediction import Prediction

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(paths.HOME_ENV, str(blocker / "home"))
    monkeypatch.setattr(paths, "_UNWRITABLE", {})
    assert paths.state_dir() == blocker / "home" / "state"  # no exception
    assert paths.config_dir() == blocker / "home" / "config"
    unwritable = paths.unwritable_user_dirs()
    assert set(unwritable) == {"state", "config"} and str(blocker / "home" / "state") in unwritable["state"]
    prediction = Prediction(probability=0.5, label="x", threshold=0.5, model="m", model_sha256="0" * 64,
                            elapsed_ms=1.0)
    assert audit.record_prediction("0" * 64, prediction) is False  # the result stands; the log says why
