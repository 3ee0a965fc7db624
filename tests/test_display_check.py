"""The launcher's check for the system libraries Qt's X11 plugin needs (no Qt is imported here)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from pneumo_desktop import display_check
from pneumo_desktop.launcher import EXIT_NO_DISPLAY, main

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\n'
X11 = {"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}
FRESH_DEBIAN_MISSING = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}


def _problem(tmp_path: Path, os_release: str, missing: set[str], environ: dict[str, str] = X11) -> str | None:
    release = tmp_path / "os-release"
    release.write_text(os_release)
    return display_check.problem(environ, "linux", lambda name: name not in missing, [], release)


def test_missing_xcb_libraries_give_one_line_with_the_apt_command(tmp_path: Path) -> None:
    line = _problem(tmp_path, DEBIAN, FRESH_DEBIAN_MISSING)
    assert line is not None and "\n" not in line
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in line
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in line
    assert "QT_QPA_PLATFORM=offscreen" in line and "predict" in line
    assert "xcb-cursor0" not in line  # Qt's own message blames this library whatever is missing


def test_the_install_command_follows_the_distribution(tmp_path: Path) -> None:
    line = _problem(tmp_path, FEDORA, {"libxcb-icccm.so.4", "libxcb-cursor.so.0"})
    assert line is not None and "sudo dnf install xcb-util-cursor xcb-util-wm" in line
    unknown = _problem(tmp_path, "ID=gentoo\n", {"libxcb-keysyms.so.1"})
    assert unknown is not None and "apt install libxcb-keysyms1" in unknown and "dnf install xcb-util-keysyms" in unknown


def test_nothing_is_said_when_everything_is_there_or_xcb_is_not_used(tmp_path: Path) -> None:
    assert _problem(tmp_path, DEBIAN, set()) is None
    for environ in ({"QT_QPA_PLATFORM": "offscreen"}, {"QT_QPA_PLATFORM": "wayland"},
                    {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}):
        assert _problem(tmp_path, DEBIAN, FRESH_DEBIAN_MISSING, environ) is None
    assert display_check.problem(X11, "win32", lambda name: False, []) is None
    assert _problem(tmp_path, DEBIAN, FRESH_DEBIAN_MISSING, {"QT_QPA_PLATFORM": "xcb"}) is not None


def test_no_display_is_said_in_one_line_too(tmp_path: Path) -> None:
    line = _problem(tmp_path, DEBIAN, set(), {"XDG_SESSION_TYPE": "tty"})
    assert line is not None and "\n" not in line and "DISPLAY is not set" in line and "predict" in line
    assert _problem(tmp_path, DEBIAN, set(), {"QT_QPA_PLATFORM": "offscreen"}) is None


def test_a_library_shipped_with_the_app_counts_as_present(tmp_path: Path) -> None:
    (tmp_path / "libxcb-icccm.so.4").write_bytes(b"")
    assert display_check.missing_libraries(lambda name: name not in FRESH_DEBIAN_MISSING, [tmp_path]) == [
        "libxcb-keysyms.so.1"]


def test_the_launcher_stops_before_qt_with_that_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(display_check, "problem", lambda: "pneumo-desktop: the window cannot open: …")
    fake = types.ModuleType("pneumo_desktop.app")
    fake.main = lambda paths: pytest.fail("Qt must not be started")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pneumo_desktop.app", fake)
    assert main(["a.dcm"]) == EXIT_NO_DISPLAY
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot open" in err
