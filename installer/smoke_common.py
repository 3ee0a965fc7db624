"""What the smoke test's modules share (installer/smoke_test.py, smoke_listen.py). Standard library only."""

from __future__ import annotations

import os
import signal
import subprocess

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
