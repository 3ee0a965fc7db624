"""What the checks of a built bundle share (installer/smoke_test.py, smoke_listen.py, measure_startup.py,
benchmarks/bundle_memory.py): the version and default place of the bundle, the tolerance, how to stop it.
Standard library only."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION = re.search(r'^__version__ = "(.+)"$', (ROOT / "pneumo_desktop" / "__init__.py").read_text(encoding="utf-8"),
                    re.MULTILINE).group(1)  # type: ignore[union-attr]
BUNDLE = ROOT / "dist" / f"pneumo-desktop-{VERSION}"  # what installer/build.sh makes

TOLERANCE = 1e-4
GUI_TIMEOUT_S = float(os.environ.get("PNEUMO_SMOKE_GUI_TIMEOUT", "120"))


class Failure(Exception):
    pass


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a bundle process started with start_new_session=True, and whatever it started."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
