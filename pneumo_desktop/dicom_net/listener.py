"""C-STORE SCP: receive films from configured nodes into an inbox folder, bound only where configured.

Only the calling AE titles listed are accepted (any other association is rejected before data flows). A
received instance is written atomically under its SOP Instance UID, then handed to ``on_received`` on the
listener's thread: the callback should queue work, not score in place, or the sender waits for the model.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.transport import ThreadedAssociationServer
from pynetdicom.utils import make_target

from pneumo_desktop.core.atomic import atomic_write_bytes
from pneumo_desktop.dicom_net.nodes import DEFAULT_BIND, DicomNetworkError, checked_ae_title
from pneumo_desktop.dicom_net.received_files import received_file_name

log = logging.getLogger(__name__)
# Films arrive compressed as often as not: accept every transfer syntax pydicom can decode.
TRANSFER_SYNTAXES = [
    "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.5",
]
_OUT_OF_RESOURCES, _CANNOT_UNDERSTAND = 0xA700, 0xC000
STOP_POLL_S = 0.05


class Listener:
    """``start()`` binds and returns at once; ``stop()`` closes the socket and every association."""

    def __init__(self, *, ae_title: str, port: int, inbox: Path, allowed_callers: Iterable[str],
                 on_received: Callable[[Path], None], bind: str = DEFAULT_BIND, timeout_s: float = 30.0) -> None:
        callers = [checked_ae_title(c) for c in allowed_callers]
        if not callers:
            raise DicomNetworkError("no calling AE title is allowed: list the nodes that may send films")
        self.inbox = Path(inbox)
        self._on_received = on_received
        self._address = (bind, int(port))
        self._ae = AE(ae_title=checked_ae_title(ae_title))
        self._ae.require_calling_aet = callers
        self._ae.acse_timeout = self._ae.dimse_timeout = self._ae.network_timeout = timeout_s
        for context in AllStoragePresentationContexts:
            if context.abstract_syntax is not None:
                self._ae.add_supported_context(context.abstract_syntax, TRANSFER_SYNTAXES)
        self._server: ThreadedAssociationServer | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the port the system chose when 0 was asked)."""
        if self._server is None:
            return self._address
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        if not self.inbox.is_dir():
            raise DicomNetworkError(f"the inbox folder {self.inbox} does not exist")
        try:
            server = self._ae.make_server(self._address, evt_handlers=[(evt.EVT_C_STORE, self._store)],
                                          server_class=ThreadedAssociationServer)
        except OSError as exc:
            raise DicomNetworkError(f"cannot listen on {self._address[0]}:{self._address[1]} "
                                    f"({exc.strerror or exc})") from exc
        # What AE.start_server(block=False) does, but polling every 50 ms instead of 500: stop() waits for the
        # loop to notice, and the window stops the listener when the user turns receiving off or quits.
        self._ae._servers.append(server)
        self._server = server
        threading.Thread(target=make_target(partial(server.serve_forever, poll_interval=STOP_POLL_S)),
                         name="pneumo-dicom-listener", daemon=True).start()
        log.info("listening as %s on %s:%d", self._ae.ae_title, *self.address)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def _store(self, event: Any) -> int:
        try:
            ds = event.dataset
            ds.file_meta = event.file_meta
            name = received_file_name(ds)
        except Exception:  # library boundary: a malformed data set raises many types
            log.warning("a received instance could not be decoded; refused")
            return _CANNOT_UNDERSTAND
        if name is None:
            return _CANNOT_UNDERSTAND  # a film without a valid SOP Instance UID
        target = self.inbox / name
        buffer = io.BytesIO()
        try:
            ds.save_as(buffer, enforce_file_format=True)
            atomic_write_bytes(target, buffer.getvalue())
        except (OSError, ValueError) as exc:
            log.error("a received instance could not be saved: %s", exc)
            return _OUT_OF_RESOURCES
        try:
            self._on_received(target)
        except Exception:  # the sender must get its answer whatever the callback does
            log.exception("the received film could not be queued")
        return 0x0000
