"""A throw-away X server (Xvfb) for the checks that start the bundle's real window on the xcb platform.

Standard library only. Xvfb picks its own free display and writes the number to a pipe (-displayfd), so two
checks running at once never race for a display number.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager


class XvfbUnavailable(RuntimeError):
    pass


@contextmanager
def virtual_display(size: str = "1600x1000x24", timeout_s: float = 30.0) -> Iterator[str]:
    """Yields the DISPLAY (":N") of a fresh Xvfb, stopped on exit."""
    if shutil.which("Xvfb") is None:
        raise XvfbUnavailable("no Xvfb on PATH (Debian/Ubuntu: apt-get install xvfb)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", size, "-nolisten", "tcp",
                               "-noreset"], pass_fds=(write_end,), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    try:
        number = b""
        deadline = time.monotonic() + timeout_s
        while not number.endswith(b"\n"):
            if time.monotonic() > deadline or server.poll() is not None:
                raise XvfbUnavailable(f"Xvfb did not start: {server.stderr.read()[-1000:] if server.poll() is not None else 'timed out'}")
            chunk = os.read(read_end, 16)
            if not chunk:
                raise XvfbUnavailable(f"Xvfb did not start: {server.stderr.read()[-1000:]}")
            number += chunk
        yield f":{number.decode().strip()}"
    finally:
        os.close(read_end)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


WINDOW_CLASS = '("pneumo-desktop" "pneumo_desktop")'


def mapped_main_window(display: str) -> str | None:
    """The id of the app's viewable top-level window on ``display``, or None (needs xwininfo: x11-utils)."""
    tree = subprocess.run(["xwininfo", "-root", "-tree", "-display", display], capture_output=True, text=True,
                          check=False).stdout
    for line in tree.splitlines():
        if WINDOW_CLASS in line:
            window = line.split()[0]
            info = subprocess.run(["xwininfo", "-id", window, "-display", display], capture_output=True,
                                  text=True, check=False).stdout
            if "IsViewable" in info:
                return window
    return None
