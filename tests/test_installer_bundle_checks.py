"""installer/bundle_checks.py: the build fails, instead of shipping a bundle that cannot open its window, when the
build machine lacks a library Qt's xcb plugin links, when the bundle does not carry one desktops often lack, or
when a symlink in it is broken. And the release layout: a versioned folder, SHA256SUMS, INSTALL.txt."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTALLER = ROOT / "installer"


def _checks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundle_checks", INSTALLER / "bundle_checks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _library_needing(folder: Path, missing: str) -> Path:
    """A shared library that links ``missing``, which is then deleted: what a build machine without the
    package looks like to ldd."""
    stub_c = folder / "stub.c"
    stub_c.write_text("int pneumo_stub(void) { return 1; }\n")
    stub = folder / missing
    subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-soname,{missing}", "-o", str(stub), str(stub_c)], check=True)
    user_c = folder / "user.c"
    user_c.write_text("int pneumo_stub(void);\nint pneumo_user(void) { return pneumo_stub(); }\n")
    user = folder / "libqxcb.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-Wl,--no-as-needed", "-o", str(user), str(user_c), str(stub)],
                   check=True)
    stub.unlink()
    return user


@pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("ldd") is None, reason="needs gcc and ldd")
def test_preflight_names_a_library_the_build_machine_lacks(tmp_path: Path) -> None:
    checks = _checks()
    qt = tmp_path / "Qt"
    (qt / "plugins" / "platforms").mkdir(parents=True)
    (qt / "lib").mkdir()
    plugin = _library_needing(tmp_path, "libpneumo-absent.so.4")
    shutil.copy2(plugin, qt / "plugins" / "platforms" / "libqxcb.so")
    shutil.copy2(plugin, qt / "lib" / "libQt6XcbQpa.so.6")
    problems = checks.preflight(qt)
    assert len(problems) == 1 and "libpneumo-absent.so.4" in problems[0] and "would not open its window" in problems[0]
    done = subprocess.run([sys.executable, str(INSTALLER / "bundle_checks.py"), "preflight", str(qt)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "libpneumo-absent.so.4" in done.stderr


def test_the_install_hint_names_the_debian_packages() -> None:
    checks = _checks()
    hint = checks.install_hint(["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libodd.so.1"])
    assert hint.startswith("apt-get install libxcb-icccm4 libxcb-keysyms1") and "libodd.so.1" in hint


def test_a_bundle_without_the_xcb_libraries_or_with_a_broken_link_fails(tmp_path: Path) -> None:
    checks = _checks()
    bundle = tmp_path / "pneumo-desktop-9.9.9"
    internal = bundle / "_internal"
    internal.mkdir(parents=True)
    (internal / "libxcb-cursor.so.0").write_bytes(b"\x7fELF")
    (internal / "libQt6Network.so.6").symlink_to("PySide6/Qt/lib/libQt6Network.so.6")
    problems = " | ".join(checks.check_bundle(bundle))
    assert "libxcb-icccm.so.4" in problems and "libxcb-keysyms.so.1" in problems
    assert "libxcb-cursor.so.0," not in problems.split("apt-get")[0]
    assert "no xcb platform plugin" in problems
    assert "broken symlinks in the bundle: _internal/libQt6Network.so.6" in problems


def test_build_checks_before_and_after_and_ships_a_versioned_folder_with_checksums() -> None:
    build = (INSTALLER / "build.sh").read_text(encoding="utf-8")
    assert build.index("bundle_checks.py preflight") < build.index("pyinstaller\" ") < \
        build.index("bundle_checks.py bundle")
    assert 'FOLDER="$NAME-$VERSION"' in build and 'tar -C "$DIST" -cf - "$FOLDER"' in build
    assert "sha256sum" in build and "SHA256SUMS" in build
    assert "INSTALL.txt" in build


def test_install_txt_says_how_to_install_upgrade_uninstall_and_where_the_audit_log_is() -> None:
    text = (INSTALLER / "INSTALL.txt").read_text(encoding="utf-8")
    for needed in ("Install", "Upgrade", "Uninstall", "audit.jsonl", "~/.local/state/pneumo_desktop",
                   "--uninstall", "sha256sum -c SHA256SUMS", "glibc 2.35", "@VERSION@"):
        assert needed in text, needed


def test_the_audit_log_folder_in_install_txt_is_where_the_app_writes_it(monkeypatch, tmp_path: Path) -> None:
    from pneumo_desktop import paths
    from pneumo_desktop.core import audit

    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert audit.audit_path() == tmp_path / ".local" / "state" / "pneumo_desktop" / "audit.jsonl"


@pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("objdump") is None, reason="needs gcc and objdump")
def test_a_library_needing_a_newer_glibc_than_the_minimum_fails_the_bundle(tmp_path: Path) -> None:
    checks = _checks()
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    old = tmp_path / "old.c"
    old.write_text("#include <string.h>\nsize_t old_len(const char *s) { return strlen(s); }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(bundle / "_internal" / "libold.so"), str(old)], check=True)
    assert checks.too_new_for_the_minimum(bundle) == []
    new = tmp_path / "new.c"  # arc4random arrived in glibc 2.36
    new.write_text("#include <stdlib.h>\nunsigned new_random(void) { return arc4random(); }\n")
    built = subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(bundle / "_internal" / "libnew.so"), str(new)],
                           capture_output=True, check=False)
    if built.returncode != 0:
        pytest.skip("this machine's glibc has no arc4random (older than 2.36)")
    assert checks.symbol_versions(bundle / "_internal" / "libnew.so")["GLIBC"] == "2.36"
    assert checks.too_new_for_the_minimum(bundle) == ["_internal/libnew.so needs GLIBC_2.36"]


def test_the_spec_leaves_the_compiler_runtime_to_the_system() -> None:
    spec = (INSTALLER / "pneumo_desktop.spec").read_text(encoding="utf-8")
    drop = spec[spec.index("DROP_NAMES = {"):spec.index("}", spec.index("DROP_NAMES = {"))]
    for name in ("libstdc++.so.6", "libgcc_s.so.1", "libexpat.so.1"):
        assert f'"{name}"' in drop
