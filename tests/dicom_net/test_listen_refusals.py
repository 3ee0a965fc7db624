"""``pneumo-desktop listen`` refuses bad settings with one sentence and exit status 2, before any socket."""

from __future__ import annotations

from pathlib import Path

import pytest

from pneumo_desktop import paths
from pneumo_desktop.launcher import main


@pytest.fixture
def models_env(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.MODELS_ENV, str(tiny_model_dir))


def test_bad_settings_are_refused(models_env, tmp_path: Path, capsys) -> None:
    base = ["listen", "--port", "11112", "--allow", "ORTHANC", "--inbox", str(tmp_path / "inbox")]
    assert main([*base, "--out", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path), "--send-results-to", "ORTHANC-no-port"]) == 2
    assert "AE_TITLE@HOST:PORT" in capsys.readouterr().err
    (tmp_path / "inbox" / "out").mkdir(parents=True)
    assert main([*base, "--out", str(tmp_path / "inbox" / "out")]) == 2
    assert "inbox" in capsys.readouterr().err
    assert main(["listen", "--port", "70000", "--allow", "X", "--out", str(tmp_path)]) == 2
    assert main([*base, "--out", str(tmp_path), "--allow", "A\\B"]) == 2
    assert "not a valid AE title" in capsys.readouterr().err


def test_an_address_that_is_not_this_machine_is_refused(models_env, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    code = main(["listen", "--port", "11112", "--allow", "ORTHANC", "--inbox", str(tmp_path / "inbox"),
                 "--out", str(out), "--bind", "192.0.2.1"])  # TEST-NET-1: never a local address
    assert code == 2
    assert "cannot listen on 192.0.2.1:11112" in capsys.readouterr().err
