"""The header of a DICOM whose image cannot be shown (no pixel data, a codestream that does not decode, an
unsupported encoding): its tags still tell the reader whose study it is and what it claims to hold. Qt-free;
uses the loader's own format sniffing and the reader's own field extraction, so the tags read as they do for
a file that displays."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from pneumo_desktop.core.dicom_bounds import parse_bounded
from pneumo_desktop.core.dicom_reader import dicom_metadata
from pneumo_desktop.core.library_warnings import library_warnings_logged
from pneumo_desktop.core.loader import MAX_FILE_BYTES, sniff
from pneumo_desktop.core.regular_file import read_head

log = logging.getLogger(__name__)
_HEADER_BYTES = 1 << 20  # a header never needs more; the pixel data that follows is not read


def read_header(path: str | Path) -> dict[str, Any] | None:
    """The metadata of the DICOM at ``path`` without its pixels, or None when it is not a DICOM or even its
    header cannot be read."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        head = read_head(path, _HEADER_BYTES)  # never blocks on a FIFO or reads a device
    except OSError:
        return None
    fmt = sniff(head, path.name)
    if fmt is None or fmt.kind != "dicom":
        return None
    try:
        with library_warnings_logged(path.name):
            # The same bounds as an image's header: zero bytes end it at once, not after 1 MB of empty elements.
            ds = parse_bounded(io.BytesIO(head), path.name, force=fmt.detail != "DICM", stop_before_pixels=True)
            return {key: value for key, value in dicom_metadata(ds).items() if value not in (None, "")}
    except Exception as exc:  # library boundary: a damaged header raises many types
        log.info("%s: DICOM header unreadable: %s", path.name, type(exc).__name__)
        return None
