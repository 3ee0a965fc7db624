"""What the user configured for the opt-in DICOM node, Qt-free so the window and tests share one set of rules.

Listening is off by default and binds 127.0.0.1 unless told otherwise: the app's default stays "no socket".
Stored as one JSON value in the settings (gui/settings.py), never in the audit log.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field, replace
from typing import Any

from pneumo_desktop.dicom_net.nodes import (
    C_GET,
    DEFAULT_BIND,
    DEFAULT_CALLING_AE,
    RETRIEVE_METHODS,
    DicomNetworkError,
    DicomNode,
    checked_ae_title,
)

DEFAULT_PORT = 11112  # the registered DICOM port; 104 needs root on most systems


@dataclass(frozen=True)
class NodeConfig:
    ae_title: str = DEFAULT_CALLING_AE
    port: int = DEFAULT_PORT
    bind: str = DEFAULT_BIND
    listening: bool = False
    allowed_callers: tuple[str, ...] = ()
    remotes: tuple[DicomNode, ...] = field(default_factory=tuple)

    def checked(self) -> NodeConfig:
        """This configuration with titles normalised; DicomNetworkError names the first bad field."""
        title = checked_ae_title(self.ae_title)
        port = checked_port(self.port)
        bind = checked_bind(self.bind)
        callers = tuple(checked_ae_title(c) for c in self.allowed_callers)
        if self.listening and not callers:
            raise DicomNetworkError("listening is on but no calling AE title is allowed: list the nodes that may "
                                    "send films (for example your PACS's AE title)")
        titles = [r.ae_title for r in self.remotes]
        duplicate = next((t for t in titles if titles.count(t) > 1), None)
        if duplicate is not None:
            raise DicomNetworkError(f"two remote nodes are called {duplicate!r}: give each its own AE title")
        return replace(self, ae_title=title, port=port, bind=bind, allowed_callers=callers)

    def remote(self, ae_title: str) -> DicomNode | None:
        return next((r for r in self.remotes if r.ae_title == ae_title), None)

    def to_json(self) -> str:
        return json.dumps({
            "ae_title": self.ae_title, "port": self.port, "bind": self.bind, "listening": self.listening,
            "allowed_callers": list(self.allowed_callers),
            "remotes": [{"ae_title": r.ae_title, "host": r.host, "port": r.port, "retrieve": r.retrieve}
                        for r in self.remotes],
        })

    @classmethod
    def from_json(cls, text: str) -> NodeConfig:
        """A damaged or hand-edited value falls back to the default (listening off) field by field: a bad
        settings file must never open a socket."""
        try:
            raw: Any = json.loads(text) if text else {}
        except ValueError:
            raw = {}
        if not isinstance(raw, dict):
            raw = {}
        default = cls()
        remotes = []
        for item in raw.get("remotes") or []:
            try:
                # Settings stored before C-MOVE existed have no "retrieve": those nodes keep C-GET.
                retrieve = item.get("retrieve") if item.get("retrieve") in RETRIEVE_METHODS else C_GET
                remotes.append(DicomNode(str(item["ae_title"]), str(item["host"]), int(item["port"]), retrieve))
            except (KeyError, TypeError, ValueError, AttributeError, DicomNetworkError):
                continue
        config = cls(
            ae_title=_or(raw.get("ae_title"), default.ae_title, checked_ae_title),
            port=_or(raw.get("port"), default.port, checked_port),
            bind=_or(raw.get("bind"), default.bind, checked_bind),
            listening=raw.get("listening") is True,
            allowed_callers=tuple(_or(c, "", checked_ae_title) for c in raw.get("allowed_callers") or []
                                  if _or(c, "", checked_ae_title)),
            remotes=tuple(remotes),
        )
        try:
            return config.checked()
        except DicomNetworkError:
            return replace(config, listening=False)


def checked_port(value: object) -> int:
    try:
        port = int(str(value).strip())
    except ValueError:
        raise DicomNetworkError(f"{value!r} is not a port number (1-65535)") from None
    if not 0 < port < 65536:
        raise DicomNetworkError(f"port {port} is outside 1-65535")
    return port


def checked_bind(value: object) -> str:
    text = str(value).strip()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise DicomNetworkError(f"{text!r} is not an IP address to listen on (127.0.0.1 keeps the node on "
                                "this computer; 0.0.0.0 listens on every network)") from None
    return text


def _or(value: Any, default: Any, check: Any) -> Any:
    if value is None:
        return default
    try:
        return check(value)
    except (DicomNetworkError, TypeError):
        return default
