"""A DICOM node as a user configures it (AE title, host, port), checked before any socket is opened."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pneumo_desktop.core.errors import PneumoError

# PS3.5 AE: at most 16 characters of the default repertoire, no backslash or controls, not all spaces.
_AE_TITLE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")
DEFAULT_BIND = "127.0.0.1"
DEFAULT_CALLING_AE = "PNEUMO_DESKTOP"
# How films are fetched from a node: C-GET brings them back on the association this app opens; C-MOVE has the
# PACS open one to this app's receiving AE. Many archives answer only C-MOVE (C-GET is optional in DICOM).
C_GET, C_MOVE = "C-GET", "C-MOVE"
RETRIEVE_METHODS = (C_GET, C_MOVE)


class DicomNetworkError(PneumoError):
    """A DICOM network operation did not happen or did not finish, as a sentence for the user."""


def checked_ae_title(text: str) -> str:
    title = text.strip()
    if not _AE_TITLE.match(title):
        raise DicomNetworkError(f"{text!r} is not a valid AE title (1-16 characters, letters, digits, spaces "
                                "and punctuation other than a backslash)")
    return title


@dataclass(frozen=True)
class DicomNode:
    ae_title: str
    host: str
    port: int
    retrieve: str = C_GET

    def __post_init__(self) -> None:
        object.__setattr__(self, "ae_title", checked_ae_title(self.ae_title))
        if self.retrieve not in RETRIEVE_METHODS:
            raise DicomNetworkError(f"{self.retrieve!r} is not a way to retrieve: C-GET or C-MOVE")
        if not 0 < int(self.port) < 65536:
            raise DicomNetworkError(f"port {self.port} is outside 1-65535")
        if not self.host.strip():
            raise DicomNetworkError("the node has no host")

    @classmethod
    def parse(cls, text: str) -> DicomNode:
        """``AE_TITLE@HOST:PORT``, as the command line takes a node."""
        title, at, address = text.rpartition("@")
        host, colon, port = address.rpartition(":")
        if not (at and colon and port.isdigit()):
            raise DicomNetworkError(f"{text!r} is not a node: write it as AE_TITLE@HOST:PORT")
        return cls(title, host.strip("[]"), int(port))

    def __str__(self) -> str:
        return f"{self.ae_title}@{self.host}:{self.port}"
