"""Returning freed heap to the OS (gui/allocator.py) is harmless everywhere."""

from __future__ import annotations

import numpy as np

from pneumo_desktop.gui import allocator


def test_release_free_memory_keeps_live_data_intact() -> None:
    live = np.arange(1 << 20, dtype=np.int64)
    garbage = [np.ones(1 << 18) for _ in range(8)]
    del garbage
    allocator.release_free_memory()
    allocator.release_free_memory()  # twice: the libc handle is cached
    assert int(live[-1]) == (1 << 20) - 1 and int(live.sum()) == (1 << 20) * ((1 << 20) - 1) // 2
