"""How JPEG 2000 films are decoded: by Pillow's OpenJPEG, with threads.

A J2K chest film decodes in ~105 ms on one core with either plugin (both wrap OpenJPEG, and give identical
pixels), and that decode was most of the 197 ms from drop to first paint of the RG1 film. OpenJPEG decodes
code-blocks in parallel when OPJ_NUM_THREADS says so; Pillow's build honours it (RG1: 105 -> 63 ms on two
cores), pylibjpeg-openjpeg's does not (its build has no thread pool in use). While the viewer decodes, the
model thread waits for that decode (gui DecodeHandoff), so the second core is free for it.

Pillow refuses J2K of more than 16 bits per sample; such films (rare for a radiograph) keep pylibjpeg.
"""

from __future__ import annotations

import os

from pydicom.uid import JPEG2000, JPEG2000Lossless

J2K_SYNTAXES = frozenset({JPEG2000, JPEG2000Lossless})
THREADS_VARIABLE = "OPJ_NUM_THREADS"
# More threads than this gain little on one radiograph's code-blocks, and batch scoring runs decodes side by side.
_MAX_THREADS = 4


def j2k_plugins(bits_stored: int | None) -> tuple[str, ...]:
    """The pydicom decoding plugin for a J2K frame: one only, because a damaged stream fails the same way, and
    slowly, in every plugin that wraps OpenJPEG."""
    return ("pylibjpeg",) if bits_stored is not None and bits_stored > 16 else ("pillow",)


def use_decoder_threads() -> int:
    """Let OpenJPEG use the cores (up to 4) from the next decode on; a value the user set is kept. Returns the
    thread count in effect (0 when the user's value is not a number, e.g. ALL_CPUS)."""
    threads = str(max(1, min(os.cpu_count() or 1, _MAX_THREADS)))
    value = os.environ.setdefault(THREADS_VARIABLE, threads)
    return int(value) if value.isdigit() else 0
