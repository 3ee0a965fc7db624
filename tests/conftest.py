"""Shared fixtures: real data paths and the committed tiny models (models/ holds only the real one).

Sample films, their 256-px copies, the DICOM fixtures and the tiny models are in the repository (samples/,
tests/data/). The tiny models are loaded with the app's own dependencies, so the app's tests run without torch;
tests/tiny_models.py rewrites them (train extra) and tests/training checks they still match what training writes.
Tests that need torch carry ``needs_torch`` (or skip their module with TORCH_MISSING): one reason when it is
absent. The
Kermany set is not: it is found by training/data_root.py, and the tests that need it skip with one reason
(KERMANY_MISSING) when it is absent. With PNEUMO_REQUIRE_DATA=1 (CI) such a skip fails the run instead: a CI
that silently skips the model tests is worse than a red one.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from training.data_root import KERMANY_MISSING, kermany_dir  # noqa: E402 - light: no torch

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"  # the 12 full-resolution sample films (samples/README.md)
FILMS_256 = REPO / "tests" / "data" / "films256"  # the same 12 films as the Kermany set's 256-px copies
DICOM_DIR = REPO / "tests" / "data" / "dicom"  # real DICOM fixtures (tests/data/dicom/README.md)
_KERMANY = kermany_dir()
HAVE_KERMANY = _KERMANY is not None
# A path even when absent, so module-level globs stay harmless; tests that read it carry needs_kermany.
KERMANY = _KERMANY if _KERMANY is not None else REPO / "tests" / "data" / "no-kermany-set"
needs_kermany = pytest.mark.skipif(not HAVE_KERMANY, reason=KERMANY_MISSING)
TINY_MODELS = REPO / "tests" / "data"  # tiny_model/, tiny_model_seed1/, evidence_net/ (tests/tiny_models.py)
HAVE_TORCH = importlib.util.find_spec("torch") is not None
TORCH_MISSING = "torch is not installed: training/parity tests need the train extra (pip install -e '.[train]')"
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason=TORCH_MISSING)
REQUIRE_DATA_ENV = "PNEUMO_REQUIRE_DATA"
_data_skips: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and KERMANY_MISSING in str(report.longrepr):
        _data_skips.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _data_skips:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    line = f"{len(_data_skips)} tests skipped: {KERMANY_MISSING}"
    if os.environ.get(REQUIRE_DATA_ENV) == "1":
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        line = f"FAILED ({REQUIRE_DATA_ENV}=1): {line}"
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(line, red=os.environ.get(REQUIRE_DATA_ENV) == "1", yellow=True)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config, cache and state (audit log) go to a temp folder, never the developer's home."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("PNEUMO_DESKTOP_HOME", str(home))
    return home


TINY_ARGUMENTS = {"widths": [8, 16, 16, 16], "dropout": 0.0}


def tiny_network(seed: int = 0):  # type: ignore[no-untyped-def]
    """The tiny models' torch network (training.network.PneumoNet), in eval mode."""
    import torch

    from training.network import build_network

    torch.manual_seed(seed)
    return build_network("pneumo_resnet", **TINY_ARGUMENTS).eval()


def make_tiny_model_dir(directory: Path, *, seed: int = 0, cam_layer: str = "features.4") -> Path:
    """A randomly initialised small PneumoNet saved exactly as training would save a real one: weights, runtime
    export (ONNX) and card."""
    from pneumo_desktop.core.model_card import ModelCard
    from training.model_io import save_model

    arguments = dict(TINY_ARGUMENTS)
    model = tiny_network(seed)
    card = ModelCard(
        name="tiny-test-model",
        version="0.0.0",
        architecture={"name": "pneumo_resnet", "arguments": arguments},
        preprocess={"size": 64, "resample": "bilinear", "normalisation": "per_image_standardise"},
        output={"temperature": 1.0, "threshold": 0.5, "positive_if": "p >= threshold"},
        cam_layer=cam_layer,
        intended_population={"description": "test model, not for use", "age_years": [1, 5],
                             "views": ["PA", "AP"], "modalities": ["CR", "DX"]},
        metrics={"validation": None, "test": None},
        ood=None,
        data_fingerprint="none",
        config={"test": True},
        git_commit="none",
    )
    save_model(directory, model, card)
    return directory


def committed_model(name: str, directory: Path) -> Path:
    """A copy of the committed tiny model ``name`` (tests/data/<name>) in ``directory``: tests may damage it."""
    return Path(shutil.copytree(TINY_MODELS / name, directory / name))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed copy of make_tiny_model_dir(seed=0), loaded without torch."""
    return committed_model("tiny_model", tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture(scope="session")
def tiny_predictor(tiny_model_dir: Path):
    from pneumo_desktop.core.predictor import Predictor

    return Predictor.load(tiny_model_dir)


_VARIANTS: Path | None = None


def generic_films(count: int) -> list[Path]:
    """``count`` distinct small real chest films for tests that need "some films", not the Kermany set: the 12
    in-repo 256-px copies (normals first, then pneumonias, as evenly as they go), then re-encoded, slightly
    cropped variants of them, made once per run (distinct bytes, so nothing is mistaken for a duplicate)."""
    global _VARIANTS
    normals = sorted((FILMS_256 / "NORMAL").glob("*.jpg"))
    pneumonias = sorted((FILMS_256 / "PNEUMONIA").glob("*.jpg"))
    files = normals[: count // 2]
    files += pneumonias[: count - len(files)]
    if len(files) >= count:
        return files[:count]
    import tempfile

    from PIL import Image

    if _VARIANTS is None:
        _VARIANTS = Path(tempfile.mkdtemp(prefix="pneumo_test_films_"))
    originals = normals + pneumonias
    for i in range(count - len(files)):
        target = _VARIANTS / f"variant-{i:04d}.jpg"
        if not target.exists():
            source = originals[i % len(originals)]
            round_ = 1 + i // len(originals)
            with Image.open(source) as image:
                cropped = image.convert("L").crop((round_, round_, image.width - round_, image.height - round_))
                cropped.save(target, quality=95 - round_ % 20)
        files.append(target)
    return files
