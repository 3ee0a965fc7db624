"""The headless command line: records on stdout, messages on stderr, exit codes 0/1/2/3, heatmap files."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pneumo_desktop import __version__, paths
from pneumo_desktop.core import audit, records
from pneumo_desktop.core.model_card import RUNTIME_FILENAME, WEIGHTS_FILENAME, ModelCard
from pneumo_desktop.launcher import main
from tests.conftest import DICOM_DIR, FILMS_256, REPO, SAMPLES

NORMALS = sorted((FILMS_256 / "NORMAL").glob("*.jpg"))
PNEUMONIAS = sorted((FILMS_256 / "PNEUMONIA").glob("*.jpg"))


@pytest.fixture(autouse=True)
def _tiny_model(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.MODELS_ENV, str(tiny_model_dir))


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """Three images in a tree, plus files a walk must skip."""
    root = tmp_path / "inputs"
    (root / "sub").mkdir(parents=True)
    shutil.copy(NORMALS[0], root / "a.jpg")
    shutil.copy(PNEUMONIAS[0], root / "sub" / "b.jpg")
    shutil.copy(NORMALS[1], root / "sub" / "c.jpeg")
    (root / "notes.txt").write_text("not an image")
    (root / ".hidden.jpg").write_bytes(NORMALS[2].read_bytes())
    shutil.copy(DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm", root / "DICOMDIR")
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_predict_folder_jsonl_reports_every_image_and_skips_the_rest(folder: Path, capsys) -> None:
    code, out, err = run(capsys, "predict", str(folder), "--format", "jsonl")
    assert code == 0
    got = jsonl(out)
    assert [Path(r["path"]).relative_to(folder).as_posix() for r in got] == ["a.jpg", "sub/b.jpg", "sub/c.jpeg"]
    assert all(list(r) == list(records.FIELDS) for r in got)
    assert all(0.0 <= r["probability"] <= 1.0 and r["label"] in ("NORMAL", "PNEUMONIA") for r in got)
    assert "skipped 3 files" in err
    assert "Traceback" not in err
    assert str(folder) not in err  # logs carry basenames only


def test_jsonl_and_csv_have_the_same_keys_and_values(folder: Path, capsys) -> None:
    _, out_jsonl, _ = run(capsys, "predict", str(folder), "--format", "jsonl")
    code, out_csv, _ = run(capsys, "predict", str(folder), "--format", "csv")
    assert code == 0
    assert out_csv.splitlines()[0].split(",") == list(records.FIELDS)
    from_csv = records.read_csv(io.StringIO(out_csv))
    from_json = jsonl(out_jsonl)
    for a, b in zip(from_csv, from_json, strict=True):
        assert a.keys() == b.keys()
        assert a["probability"] == pytest.approx(b["probability"], abs=1e-9)
        assert {k: v for k, v in a.items() if k not in ("probability", "elapsed_ms")} == \
               {k: v for k, v in b.items() if k not in ("probability", "elapsed_ms")}


def test_batched_and_single_scores_agree(folder: Path, capsys) -> None:
    _, batched, _ = run(capsys, "predict", str(folder), "--format", "jsonl", "--batch-size", "16")
    _, single, _ = run(capsys, "predict", str(folder), "--format", "jsonl", "--batch-size", "1")
    for a, b in zip(jsonl(batched), jsonl(single), strict=True):
        assert a["probability"] == pytest.approx(b["probability"], abs=1e-5)


def test_table_is_the_default_format(folder: Path, capsys) -> None:
    code, out, _ = run(capsys, "predict", str(folder / "a.jpg"))
    assert code == 0
    header, row = out.splitlines()
    assert header.split()[:4] == ["path", "probability", "label", "status"]
    assert row.startswith(str(folder / "a.jpg")) and "ok" in row


def test_failed_inputs_exit_1_and_the_others_are_still_reported(folder: Path, capsys) -> None:
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff" + b"\0" * 50)
    code, out, err = run(capsys, "predict", str(folder), str(folder / "missing.png"), "--format", "jsonl")
    assert code == 1
    got = {Path(r["path"]).name: r for r in jsonl(out)}
    assert set(got) == {"a.jpg", "b.jpg", "c.jpeg", "broken.jpg", "missing.png"}
    assert got["broken.jpg"]["error"] and got["broken.jpg"]["probability"] is None
    assert "no such file" in got["missing.png"]["error"]
    assert got["a.jpg"]["error"] is None and got["a.jpg"]["probability"] is not None
    assert "broken.jpg" in err and "Traceback" not in err


def test_gate_rejection_is_a_result_not_a_failure(tmp_path: Path, capsys) -> None:
    small = tmp_path / "small.png"
    Image.fromarray(np.full((30, 50), 100, np.uint8)).save(small)
    code, out, _ = run(capsys, "predict", str(small), "--format", "jsonl")
    assert code == 0
    (record,) = jsonl(out)
    assert record["probability"] is None and record["label"] is None
    assert record["rejected"]["code"] == "too_small" and record["rejected"]["reason"]


@pytest.mark.parametrize("argv", [
    ["predict"],
    ["predict", "x.png", "--format", "xml"],
    ["predict", "x.png", "--batch-size", "0"],
    ["report"],
    ["--no-such-option"],
])
def test_usage_errors_exit_2(argv: list[str], capsys) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == "" and err


def test_no_inputs_found_exits_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    code, out, err = run(capsys, "predict", str(tmp_path / "empty"))
    assert code == 2 and out == ""
    assert "no image files found" in err and "skipped 1 file" in err
    code, _, err = run(capsys, "predict", str(tmp_path / "nothing_here"))
    assert code == 2 and "nothing_here: no such file" in err


def test_tampered_weights_exit_3_with_a_clear_message(tiny_model_dir: Path, tmp_path: Path, folder: Path,
                                                      capsys, monkeypatch) -> None:
    broken = tmp_path / "model"
    shutil.copytree(tiny_model_dir, broken)
    data = bytearray((broken / WEIGHTS_FILENAME).read_bytes())
    data[-1] ^= 0xFF
    (broken / WEIGHTS_FILENAME).write_bytes(bytes(data))
    monkeypatch.setenv(paths.MODELS_ENV, str(broken))
    code, out, err = run(capsys, "predict", str(folder))
    assert code == 3 and out == ""
    assert "the model could not be loaded" in err and "does not match its model card" in err
    assert "Traceback" not in err
    assert audit.read_lines() == []


def test_replaced_runtime_export_exits_3_with_a_clear_message(tiny_model_dir: Path, tmp_path: Path, folder: Path,
                                                              capsys, monkeypatch) -> None:
    broken = tmp_path / "model"
    shutil.copytree(tiny_model_dir, broken)
    runtime = broken / RUNTIME_FILENAME
    runtime.write_bytes(runtime.read_bytes() + b"\0")
    monkeypatch.setenv(paths.MODELS_ENV, str(broken))
    code, out, err = run(capsys, "predict", str(folder))
    assert code == 3 and out == ""
    assert "runtime model model.onnx does not match its model card" in err and "Traceback" not in err
    assert audit.read_lines() == []


def test_edited_card_exits_3_naming_the_card(tiny_model_dir: Path, tmp_path: Path, folder: Path,
                                             capsys, monkeypatch) -> None:
    edited = tmp_path / "model"
    shutil.copytree(tiny_model_dir, edited)
    card = json.loads((edited / "model_card.json").read_text())
    card["output"]["threshold"] = 0.105
    (edited / "model_card.json").write_text(json.dumps(card))
    monkeypatch.setenv(paths.MODELS_ENV, str(edited))
    code, out, err = run(capsys, "predict", str(folder))
    assert code == 3 and out == ""
    assert "model_card.json does not match its weights file" in err and "Traceback" not in err


def test_missing_model_exits_3(tmp_path: Path, folder: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv(paths.MODELS_ENV, str(tmp_path / "no_model"))
    code, _, err = run(capsys, "predict", str(folder))
    assert code == 3 and "model card not found" in err


def test_every_prediction_is_audited_without_paths(folder: Path, capsys) -> None:
    code, out, _ = run(capsys, "predict", str(folder), "--format", "jsonl")
    assert code == 0
    got = jsonl(out)
    lines = audit.read_lines()
    assert [e["file_sha256"] for e in lines] == [r["file_sha256"] for r in got]
    assert [e["probability"] for e in lines] == pytest.approx([r["probability"] for r in got], abs=1e-6)
    text = audit.audit_path().read_text()
    assert "inputs" not in text and ".jpg" not in text and ".jpeg" not in text


# --- heatmaps -----------------------------------------------------------------------------------------------

def _same_stem_inputs(tmp_path: Path) -> list[Path]:
    files = []
    for name, source in (("one", NORMALS[0]), ("two", PNEUMONIAS[0])):
        (tmp_path / name).mkdir()
        files.append(tmp_path / name / "IM-0001.jpg")
        shutil.copy(source, files[-1])
    return files


def test_heatmaps_are_written_with_names_that_never_collide(tmp_path: Path, capsys) -> None:
    files = _same_stem_inputs(tmp_path)
    out_dir = tmp_path / "heatmaps"
    code, out, _ = run(capsys, "predict", *map(str, files), "--heatmap-dir", str(out_dir), "--format", "jsonl")
    assert code == 0
    got = jsonl(out)
    written = sorted(out_dir.iterdir())
    assert len(written) == 2
    assert sorted(r["heatmap"] for r in got) == [str(p) for p in written]
    for record, source in zip(got, files, strict=True):
        heatmap = Image.open(record["heatmap"])
        assert heatmap.mode == "RGB"
        assert heatmap.size == Image.open(source).size  # registered to the original geometry
        assert Path(record["heatmap"]).name.startswith("IM-0001")


def test_heatmap_of_a_full_resolution_jpeg_fits_the_original_and_scores_the_same(tmp_path: Path, capsys) -> None:
    """The model reads a 2k JPEG DCT-scaled (core.scoring.read_for_model) with or without heatmaps; the heatmap PNG
    is still drawn on the original pixels."""
    source = sorted(SAMPLES.rglob("*.jpeg"))[0]
    plain = jsonl(run(capsys, "predict", str(source), "--format", "jsonl")[1])[0]
    code, out, _ = run(capsys, "predict", str(source), "--heatmap-dir", str(tmp_path / "maps"), "--format", "jsonl")
    assert code == 0
    with_map = jsonl(out)[0]
    assert with_map["probability"] == plain["probability"]
    assert Image.open(with_map["heatmap"]).size == Image.open(source).size


def test_heatmaps_are_not_overwritten_without_force(tmp_path: Path, capsys) -> None:
    files = _same_stem_inputs(tmp_path)
    out_dir = tmp_path / "heatmaps"
    assert run(capsys, "predict", *map(str, files), "--heatmap-dir", str(out_dir))[0] == 0
    os.utime(next(out_dir.iterdir()), ns=(1, 1))
    before = {p.name: p.stat().st_mtime_ns for p in out_dir.iterdir()}
    code, out, err = run(capsys, "predict", *map(str, files), "--heatmap-dir", str(out_dir))
    assert code == 2 and out == ""
    assert "already exist" in err and "--force" in err
    assert {p.name: p.stat().st_mtime_ns for p in out_dir.iterdir()} == before
    code, _, _ = run(capsys, "predict", *map(str, files), "--heatmap-dir", str(out_dir), "--force")
    assert code == 0
    assert {p.name: p.stat().st_mtime_ns for p in out_dir.iterdir()} != before


def test_heatmap_dir_may_not_be_an_input_folder(folder: Path, capsys) -> None:
    listing = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    for target in (folder, folder / "sub" / "heatmaps"):
        code, _, err = run(capsys, "predict", str(folder), "--heatmap-dir", str(target))
        assert code == 2 and "must not be an input folder" in err
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == listing


def test_rejected_images_get_no_heatmap(tmp_path: Path, capsys) -> None:
    (tmp_path / "in").mkdir()
    small = tmp_path / "in" / "small.png"
    Image.fromarray(np.full((30, 30), 100, np.uint8)).save(small)
    code, out, _ = run(capsys, "predict", str(small), "--heatmap-dir", str(tmp_path / "maps"), "--format", "jsonl")
    assert code == 0
    assert jsonl(out)[0]["heatmap"] is None
    assert list((tmp_path / "maps").iterdir()) == []


# --- acceptance and entry point -------------------------------------------------------------------------------

def test_acceptance_samples_and_dicom_fixtures(capsys) -> None:
    """One record per image file, no traceback, exit 1 (two DICOM fixtures fail by design)."""
    code, out, err = run(capsys, "predict", str(SAMPLES), str(DICOM_DIR), "--format", "jsonl")
    assert code == 1
    got = jsonl(out)
    expected = sorted(p for p in [*SAMPLES.rglob("*.jpeg"), *DICOM_DIR.glob("*.dcm")])
    assert sorted(Path(r["path"]) for r in got) == expected
    failed = sorted(Path(r["path"]).name for r in got if r["error"])
    assert failed == ["cr_chest_no_pixel_data.dcm", "dx_mono1_12bit_j2k_lossless_bad_marker.dcm"]
    assert "Traceback" not in err


def test_version_prints_app_and_model_without_torch(tiny_model_dir: Path) -> None:
    code = ("import sys; from pneumo_desktop.launcher import main; rc = main(['--version']); "
            "assert 'torch' not in sys.modules and 'PySide6' not in sys.modules; sys.exit(rc)")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    card = ModelCard.read(tiny_model_dir / "model_card.json")
    assert __version__ in done.stdout
    assert card.display_name in done.stdout and card.weights_sha256 in done.stdout


def test_the_console_entry_point_flushes_everything_before_its_fast_exit(tiny_model_dir: Path, tmp_path: Path) -> None:
    """``launcher.run`` ends headless commands with os._exit: every record must still reach stdout (also through
    a pipe), the exit code must survive, a JPEG-only run never imports pydicom, and scoring never imports torch
    (the app runs the model's ONNX export)."""
    files = [*NORMALS[:3], tmp_path / "missing.jpg"]
    code = (
        "import os, sys; sys.argv = ['pneumo-desktop', 'predict', *sys.argv[1:], '--format', 'jsonl']\n"
        "real_exit = os._exit\n"
        "def fast_exit(status):\n"
        "    print('FAST EXIT, pydicom imported:', 'pydicom' in sys.modules, 'torch imported:', 'torch' in sys.modules,\n"
        "          'onnxruntime imported:', 'onnxruntime' in sys.modules, file=sys.stderr, flush=True)\n"
        "    real_exit(status)\n"
        "os._exit = fast_exit\n"
        "from pneumo_desktop.launcher import run; run()"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), **{paths.MODELS_ENV: str(tiny_model_dir)},
               PNEUMO_DESKTOP_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-c", code, *map(str, files)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 1, done.stderr  # the missing file
    records = jsonl(done.stdout)
    assert len(records) == 4 and sum(r["error"] is not None for r in records) == 1
    assert "FAST EXIT, pydicom imported: False torch imported: False onnxruntime imported: True" in done.stderr
    assert (tmp_path / "home").exists()


def test_version_without_a_model_still_works(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv(paths.MODELS_ENV, str(tmp_path))
    code, out, _ = run(capsys, "--version")
    assert code == 0 and __version__ in out and "model: not available" in out


def test_headless_modules_never_import_qt() -> None:
    code = ("import sys, pneumo_desktop.launcher, pneumo_desktop.cli, pneumo_desktop.cli.predict, "
            "pneumo_desktop.cli.report; "
            "assert not [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pneumo_desktop.gui'))]")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr


def test_paths_without_a_command_open_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    import pneumo_desktop

    opened: list[list[str]] = []
    fake = types.ModuleType("pneumo_desktop.app")
    fake.main = lambda paths: opened.append(list(paths)) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pneumo_desktop.app", fake)
    monkeypatch.setattr(pneumo_desktop, "app", fake, raising=False)
    assert main(["a.dcm", "folder"]) == 0
    assert main(["--", "-odd-name.png"]) == 0
    assert main([]) == 0
    assert opened == [["a.dcm", "folder"], ["-odd-name.png"], []]
