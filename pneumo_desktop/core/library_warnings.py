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


def route_library_warnings_to_log() -> None:
    """Process-wide, for threads that no capture covers (pynetdicom decodes a peer's command set and data set
    on its own threads): a library warning that passes the filters goes to the log as above, scrubbed, instead
    of stderr; ours are shown as before. Installed under the capture lock, so no capture is active meanwhile
    to save the old hook and put it back on exit. Idempotent."""
    with _LOCK:
        if getattr(warnings.showwarning, "_pneumo_routed", False):
            return
        shown = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: object = None, line: str | None = None) -> None:
            if "pneumo_desktop" in str(filename):
                shown(message, category, filename, lineno, file, line)  # type: ignore[arg-type]
            else:
                log.debug("%s: %s", category.__name__, scrubbed(str(message)))

        show._pneumo_routed = True  # type: ignore[attr-defined]
        warnings.showwarning = show
