"""Returning freed C heap to the OS (glibc only; a no-op on Windows, macOS and musl).

glibc keeps freed memory in per-thread arenas, so the window's RSS creeps up by tens of MB over a
1,000-file batch although nothing leaks. ``release_free_memory`` hands it back after a batch and every
TRIM_EVERY files during one (gui/jobs.py).

Tuning glibc for the image buffers instead (mallopt: a 32 MiB mmap threshold, a 128 MiB trim threshold,
two arenas) was measured and dropped: the headless stages got faster (fewer page faults), but drop ->
result through the window did not change beyond the run-to-run noise (49-54 vs 46-55 ms, four runs each),
nor did peak RSS (428 vs 427 MiB). docs/performance.md has the figures.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools


@functools.cache
def _libc() -> ctypes.CDLL | None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        if hasattr(libc, "malloc_trim"):
            return libc
    return None


def release_free_memory() -> None:
    """Hand freed heap back to the OS; cheap enough to call after every batch."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
