"""Warnings raised by the imaging libraries while reading a file go to the log (at DEBUG, quoted values
scrubbed), never to the user or stderr.

pydicom warns about odd but readable headers (invalid VR values...), Pillow about damaged EXIF and TIFF
tags. catch_warnings swaps process-wide state, so concurrent captures must not interleave their enter/exit:
one lock serialises them. Callers wrap only header work in it (DICOM parsing, Pillow's header and EXIF
steps); Pillow's pixel decoding stays outside, so batch threads keep decoding in parallel.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|b'[^']*'")
_LOCK = threading.Lock()


@contextmanager
def library_warnings_logged(name: str) -> Iterator[None]:
    """Log library warnings with the file's basename ``name``.

    Warnings raised by our own code are re-issued unchanged, so the test suite still turns them into
    errors.
    """
    recorded: list[warnings.WarningMessage] = []
    try:
        with _LOCK, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                recorded = list(caught)
    finally:
        for item in recorded:
            if "pneumo_desktop" in str(item.filename):
                warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
            else:
                # DEBUG: the CLI shows INFO on the terminal, and these are for whoever debugs a file.
                log.debug("%s: %s: %s", name, item.category.__name__, scrubbed(str(item.message)))


def scrubbed(message: str) -> str:
    """A library message without the header values it quotes: pydicom's "Invalid value for VR IS:
    'Doe^Janet'" carries whatever the field held, the patient's name included."""
    return _QUOTED.sub("'…'", message.split(" Please see <", 1)[0])
