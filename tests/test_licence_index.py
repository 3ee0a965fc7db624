"""The licence list the About box shows: what the app really carries (its runtime requirements), or, inside a
bundle, the index the build wrote."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pneumo_desktop import licence_index


def test_the_runtime_closure_has_the_shipped_libraries_and_no_training_extra() -> None:
    names = {licence_index.norm(d.metadata["Name"]) for d in licence_index.runtime_distributions()}
    assert {"onnxruntime", "pynetdicom", "highdicom", "pydicom", "pyside6-essentials", "shiboken6"} <= names
    assert not names & {"torch", "torchvision", "onnx", "scikit-learn", "pytest"}  # extras: train, dev


def test_qt_is_named_with_the_licence_it_is_used_under() -> None:
    pairs = dict(licence_index.notices())
    (pyside,) = [lic for what, lic in pairs.items() if what.lower().startswith("pyside6")]
    assert pyside.startswith("LGPL-3.0") and "replace" in pyside


def test_inside_a_bundle_the_builds_own_index_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "LICENSES").mkdir()
    (tmp_path / "LICENSES" / licence_index.INDEX_NAME).write_text(
        "Licence notices for the software carried in this bundle.\n\npneumo_desktop: MIT\n"
        "onnxruntime 1.32.0: MIT License (onnxruntime/)\n", encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert licence_index.notices() == [("pneumo_desktop", "MIT"), ("onnxruntime 1.32.0", "MIT License (onnxruntime/)")]
