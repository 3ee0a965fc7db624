"""How the window's process uses the C heap (glibc only; a no-op on Windows and macOS).

A 2k film passes through several 4-16 MB arrays (decoded pixels, display levels, the first frame, the
pixmap). By default glibc serves each from a fresh mmap and unmaps it on free, so every drop pays the
kernel for zeroed pages again: measured here (docs/performance.md), that was about half of the decode time
and, with two threads faulting at once, they queued on the same lock. Serving them from the heap and
keeping freed memory for the next image removes that. Two arenas (instead of up to 8 per core) bound what
the worker threads can hold between them, and ``release_free_memory`` hands the rest back after a batch.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging

log = logging.getLogger(__name__)

# mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
MMAP_THRESHOLD = 32 << 20  # glibc's ceiling on 64-bit; larger blocks (a 15 MP DICOM) still get their own mmap
TRIM_THRESHOLD = 128 << 20  # free memory kept at the heap's top for the next image
ARENAS = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """glibc, or None (Windows, macOS, musl): the settings below mean nothing to other allocators."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim"):
            return libc
    return None


def tune_for_images() -> bool:
    """Call once, first thing in the GUI process; True when the allocator took the settings."""
    libc = _libc()
    if libc is None:
        return False
    settings = ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_ARENA_MAX, ARENAS))
    applied = all(libc.mallopt(ctypes.c_int(p), ctypes.c_int(v)) == 1 for p, v in settings)
    log.debug("allocator tuned for images: %s", applied)
    return applied


def release_free_memory() -> None:
    """Hand freed heap back to the OS (after a batch, and every TRIM_EVERY files during one), so the
    memory kept for speed does not outlive the work that needed it."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
