"""Cheap consistency checks of the installer recipe (the real check of a built bundle is
installer/smoke_test.sh, which needs a multi-minute PyInstaller build and so is not part of this suite)."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTALLER = ROOT / "installer"
SPEC = INSTALLER / "pneumo_desktop.spec"


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"))


def _literal(name: str):
    for node in _spec_tree().body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not a literal assignment in the spec")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _runtime_dependencies() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    return {_norm(re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0]): d for d in deps}


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints" / "installer.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_norm(name)] = version
    return pins


def test_the_recipe_files_exist_and_the_scripts_are_executable() -> None:
    for rel in ("pneumo_desktop.spec", "entry.py", "licences.py", "smoke_test.py", "make_icons.py", "README.md",
                "windows/pneumo_desktop.iss", "macos/README.md", "licenses/LGPL-3.0.txt", "licenses/GPL-3.0.txt"):
        assert (INSTALLER / rel).is_file(), rel
    for rel in ("build.sh", "smoke_test.sh", "install-desktop-entry.sh"):
        path = INSTALLER / rel
        assert path.is_file() and os.access(path, os.X_OK), rel
        assert subprocess.run(["bash", "-n", str(path)], check=False).returncode == 0, rel


def test_the_spec_is_valid_python_and_bundles_models_and_resources() -> None:
    text = SPEC.read_text(encoding="utf-8")
    _spec_tree()
    # paths.py looks for sys._MEIPASS/models and sys._MEIPASS/resources.
    assert '"resources")' in text and '"models")' in text
    assert "model.safetensors" in text and "model.onnx" in text and "model_card.json" in text
    assert 'APP = "pneumo-desktop"' in text and 'CLI = "pneumo-desktop-cli"' in text
    assert "entry.py" in text and (INSTALLER / "entry.py").read_text().count("launcher import run") == 1


def test_paths_find_the_bundled_folders_where_the_spec_puts_them(monkeypatch, tmp_path: Path) -> None:
    from pneumo_desktop import paths

    monkeypatch.delenv(paths.MODELS_ENV, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.models_dir() == tmp_path / "models"
    assert paths.resources_dir() == tmp_path / "resources"


def test_unneeded_heavy_packages_are_excluded() -> None:
    excludes = set(_literal("EXCLUDES"))
    for name in ("torch", "torchvision", "onnx", "tkinter", "matplotlib", "sklearn", "scipy",
                 "triton", "training", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtWebEngineCore",
                 "PySide6.QtMultimedia", "PySide6.Qt3DCore"):
        assert name in excludes, name
    drops = _literal("DROP_PREFIXES")
    for prefix in ("onnxruntime/transformers/", "onnxruntime/tools/", "PySide6/Qt/translations/"):
        assert prefix in drops, prefix


def test_every_dicom_codec_is_imported_and_its_metadata_travels() -> None:
    hidden = set(_literal("hiddenimports"))
    for decoder in ("gdcm", "pylibjpeg", "pillow", "pyjpegls", "rle"):
        assert f"pydicom.pixels.decoders.{decoder}" in hidden
    for module in ("openjpeg", "rle", "jpeg_ls", "gdcm", "pylibjpeg"):
        assert module in hidden
    text = SPEC.read_text(encoding="utf-8")
    for dist in ("pylibjpeg-openjpeg", "pylibjpeg-rle", "pyjpegls", "python-gdcm"):
        assert f'"{dist}"' in text, dist  # copy_metadata: pylibjpeg finds its plugins by entry point
        assert dist in _runtime_dependencies(), dist


def test_constraints_pin_onnxruntime_and_every_runtime_dependency_and_no_torch() -> None:
    pins = _constraints()
    assert "onnxruntime" in pins and "onnxruntime" in _runtime_dependencies()
    for name in ("torch", "torchvision", "onnx"):
        assert name not in pins and name not in _runtime_dependencies(), name
    missing = sorted(set(_runtime_dependencies()) - set(pins))
    assert not missing, f"pin these in constraints/installer.txt too: {missing}"
    assert {"pyinstaller", "pyinstaller-hooks-contrib"} <= set(pins)
    build = (INSTALLER / "build.sh").read_text(encoding="utf-8")
    assert '"torch", "torchvision", "onnx", "onnxruntime-gpu"' in build and "venv-installer" in build


def test_build_outputs_are_git_ignored() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "build/" in ignored and "dist/" in ignored


def test_the_desktop_entry_opens_images_and_dicom() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(ROOT / "resources" / "pneumo-desktop.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"].split()[0] == "pneumo-desktop" and "%F" in desktop["Exec"]
    assert desktop["Icon"] == "pneumo-desktop"
    assert set(desktop["MimeType"].strip(";").split(";")) == {"image/png", "image/jpeg", "application/dicom"}
    assert (ROOT / "resources" / "icons" / "app.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert (ROOT / "resources" / "icons" / "app.svg").is_file()


def test_the_platform_recipes_are_marked_as_not_built_here() -> None:
    iss = (INSTALLER / "windows" / "pneumo_desktop.iss").read_text(encoding="utf-8")
    assert "pneumo-desktop-cli.exe" in iss and "pneumo-desktop.exe" in iss
    assert "NOT BUILT HERE" in iss
    assert "NOT BUILT HERE" in (INSTALLER / "macos" / "README.md").read_text(encoding="utf-8")
    version = _module(ROOT / "pneumo_desktop" / "__init__.py").__version__
    assert f'#define AppVersion "{version}"' in iss, "keep the .iss version in step with pneumo_desktop"


def test_licence_collection_maps_bundled_files_to_top_level_names() -> None:
    licences = _module(INSTALLER / "licences.py")
    names = ["onnxruntime.capi", "onnxruntime/capi/libonnxruntime_providers_shared.so",
             "_openjpeg.cpython-311-x86_64-linux-gnu.so", "gdcm", "PySide6/Qt/lib/libQt6Core.so.6", "base_library.zip"]
    assert {"onnxruntime", "_openjpeg", "gdcm", "PySide6"} <= licences.top_level_names(names)


def test_licence_collection_writes_notices(tmp_path: Path) -> None:
    licences = _module(INSTALLER / "licences.py")
    index = licences.collect(tmp_path / "LICENSES", bundled_names=["numpy", "pydicom.pixels"], binary_sources=[],
                             site_packages=[])
    text = "\n".join(index)
    assert "numpy" in text and "pydicom" in text and "Python" in text
    assert any((tmp_path / "LICENSES").glob("numpy-*/LICENSE*"))
    assert (tmp_path / "LICENSES" / "THIRD_PARTY_NOTICES.txt").is_file()


def test_the_openssl_that_gdcm_vendors_gets_its_notice(tmp_path: Path) -> None:
    licences = _module(INSTALLER / "licences.py")
    libs = ["/venv/site-packages/python_gdcm.libs/libcrypto-5409cd36.so.1.1.1k",
            "/venv/site-packages/python_gdcm.libs/libssl-81259c47.so.1.1.1k", "/usr/lib/libcrypto.so.3"]
    index = licences.collect(tmp_path / "LICENSES", bundled_names=["gdcm"], binary_sources=libs, site_packages=[])
    notice = tmp_path / "LICENSES" / "vendored-openssl-1.1.1" / "OpenSSL-1.1.1.txt"
    assert "Copyright (c) 1998-2019 The OpenSSL Project" in notice.read_text(encoding="utf-8")
    assert "Original SSLeay License" in notice.read_text(encoding="utf-8")
    assert any("OpenSSL 1.1.1" in line and "python_gdcm.libs" in line for line in index)
    # A system OpenSSL (not in a wheel's .libs) is covered by its Debian copyright file instead.
    assert licences.vendored_notices(["/usr/lib/libcrypto.so.3"]) == {}


@pytest.mark.parametrize(
    ("bundle", "source", "ok"),
    [(0.51234, 0.51238, True), (0.5, 0.5002, False), (None, None, True), (None, 0.4, False)],
)
def test_the_smoke_test_compares_to_the_tolerance(bundle, source, ok) -> None:
    smoke = _module(INSTALLER / "smoke_test.py")

    def record(p):
        return {"x.dcm": {"path": "/a/x.dcm", "probability": p, "model_sha256": "m", "error": None if p else "e"}}

    assert (smoke.compare(record(bundle), record(source)) == []) is ok


def test_every_bundled_distribution_gets_a_non_empty_licence_folder(tmp_path: Path) -> None:
    """PyInstaller's Tree drops empty folders: onnxruntime (notices in its package folder, not its dist-info) and
    pyjpegls (no notice in the wheel) shipped without theirs."""
    pytest.importorskip("onnxruntime")
    licences = _module(INSTALLER / "licences.py")
    index = licences.collect(tmp_path / "LICENSES", bundled_names=["onnxruntime", "numpy"], binary_sources=[],
                             site_packages=[])
    folders = [p for p in (tmp_path / "LICENSES").iterdir() if p.is_dir()]
    assert any(f.name.startswith("onnxruntime-") for f in folders)
    for folder in folders:
        assert any(folder.rglob("*")), f"{folder.name} is empty"
    onnx = next(f for f in folders if f.name.startswith("onnxruntime-"))
    assert (onnx / "onnxruntime-LICENSE").is_file() and (onnx / "onnxruntime-ThirdPartyNotices.txt").is_file()
    assert any("onnxruntime" in line for line in index)
