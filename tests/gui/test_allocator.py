"""The GUI process's heap settings (gui/allocator.py): taken on glibc, harmless everywhere."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_settings_are_taken_and_trimming_is_harmless() -> None:
    # In a child: the settings are process-wide and this test must not change the test run's allocator.
    code = (
        "from pneumo_desktop.gui import allocator\n"
        "ok = allocator.tune_for_images()\n"
        "allocator.release_free_memory()\n"
        "print(ok, allocator._libc() is not None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    if out[1] == "False":
        pytest.skip("no glibc here: the allocator settings do not apply")
    assert out[0] == "True"
