"""Site calibration (`pneumo-train calibrate`) on a small synthetic site folder, and the bounded temperature."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("sklearn")


def _site(root: Path, per_class: int) -> Path:
    rng = np.random.default_rng(0)
    for label, brightness in (("NORMAL", 0.35), ("PNEUMONIA", 0.6)):
        folder = root / label
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(brightness + 0.25 * rng.random((72, 64)), 0, 1)
            Image.fromarray((pixels * 255).astype(np.uint8)).save(folder / f"{label.lower()}_{i:03d}.png")
    return root


def test_calibrate_writes_a_self_consistent_site_card(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    from safetensors.torch import load_file

    from pneumo_desktop.core.predictor import Predictor
    from training.cli import main

    site = _site(tmp_path / "site", 100)
    out = tmp_path / "site_model"
    code = main(["calibrate", "--card", str(tiny_model_dir / "model_card.json"), "--data", str(site),
                 "--out", str(out), "--site-name", "Test Hospital"])
    assert code == 0, capsys.readouterr().err
    predictor = Predictor.load(out)  # loads: a new card, pinned by its own weights file, not an edit
    info = predictor.card.site_calibration
    assert info and info["site_name"] == "Test Hospital" and info["n_per_class"] == {"NORMAL": 100, "PNEUMONIA": 100}
    assert info["metrics_before"]["roc_auc"]["ci95"] and info["metrics_after"]["sensitivity"]["value"] >= 0.95
    assert 0.5 <= predictor.card.temperature <= 20.0
    assert "site-calibrated: Test Hospital" in predictor.card.display_name  # shown wherever the model is named
    assert predictor.card.fingerprint != Predictor.load(tiny_model_dir).card.fingerprint
    before, after = load_file(tiny_model_dir / "model.safetensors"), load_file(out / "model.safetensors")
    assert before.keys() == after.keys() and all(bool((before[k] == after[k]).all()) for k in before)
    # Never over an existing card.
    assert main(["calibrate", "--card", str(tiny_model_dir / "model_card.json"), "--data", str(site),
                 "--out", str(out), "--site-name", "Again"]) == 2
    assert "already holds" in capsys.readouterr().err


def test_calibrate_refuses_fewer_than_100_per_class(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    from training.cli import main

    site = _site(tmp_path / "site", 30)
    code = main(["calibrate", "--card", str(tiny_model_dir / "model_card.json"), "--data", str(site),
                 "--out", str(tmp_path / "o"), "--site-name", "Small"])
    err = capsys.readouterr().err
    assert code == 2 and "at least 100 scorable images per class" in err and "NORMAL: 30" in err
    assert not (tmp_path / "o").exists()


def test_calibrate_names_a_missing_class_folder(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    from training.cli import main

    (tmp_path / "site" / "NORMAL").mkdir(parents=True)
    assert main(["calibrate", "--card", str(tiny_model_dir / "model_card.json"), "--data", str(tmp_path / "site"),
                 "--out", str(tmp_path / "o"), "--site-name", "X"]) == 2
    assert "missing: PNEUMONIA" in capsys.readouterr().err


def test_temperature_is_bounded_on_separable_outputs() -> None:
    from training.calibration import T_MIN, fit_temperature

    logits = np.array([-9.0, -7.0, -5.0, 5.0, 7.0, 9.0])
    labels = np.array([0, 0, 0, 1, 1, 1])
    # Separable: the likelihood keeps improving as T -> 0; the fit stops at the bound instead of 0.05.
    assert fit_temperature(logits, labels) == pytest.approx(T_MIN, rel=1e-3)
    noisy = np.array([-2.0, 1.0, -1.0, 2.0, -0.5, 0.5])
    assert T_MIN < fit_temperature(noisy, np.array([0, 0, 1, 1, 0, 1])) <= 20.0
