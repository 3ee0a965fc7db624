"""SHA-256 of files and bytes (weights pinning, report/audit matching)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pneumo_desktop.core.regular_file import open_regular


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Raises OSError (NotRegularFileError) for a FIFO or device: hashing /dev/zero would never end."""
    digest = hashlib.sha256()
    with open_regular(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
