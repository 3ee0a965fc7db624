"""C-STORE SCP: receive films from configured nodes into an inbox folder, bound only where configured.

Only associations addressed to this node's AE title, from the calling AE titles listed, are accepted (any other
is rejected before data flows, and each rejection is logged with the caller's AE title and the reason, and
counted). Idle, trickling and garbage connections are held off by connection_guard. A received instance goes
through the same bounded reading as a film opened from disk before anything inflates it (a deflate bomb is
answered with a failure status and not kept), is written atomically, as received, under a name made from its
SOP Instance UID, then handed to ``on_received`` on the listener's thread: the callback should queue work, not
score in place, or the sender waits for the model.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import pydicom
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.utils import make_target

from pneumo_desktop.core.atomic import atomic_write_bytes
from pneumo_desktop.core.dicom_bounds import inflated_stream
from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.library_warnings import library_warnings_logged, route_library_warnings_to_log
from pneumo_desktop.dicom_net.connection_guard import ARTIM_S, GuardedAssociationServer
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
# Associations that sent a whole request (idle connections never count: connection_guard): a PACS pushes on a
# few at once.
MAX_ASSOCIATIONS = 10
_RECEIVED = "received film"  # what log lines call a film that has no name yet (never its UIDs or tags)
# (result source, diagnostic) of an A-ASSOCIATE-RJ, as the log says it.
_REJECT_REASONS: dict[tuple[object, object], str] = {
    (0x01, 0x03): "its calling AE title is not among the allowed callers",
    (0x01, 0x07): "it was addressed to another AE title",
    (0x03, 0x02): "too many associations at once",
    (0x02, 0x01): "its user identity was refused",
}


class Listener:
    """``start()`` binds and returns at once; ``stop()`` closes the socket and every association.

    ``on_rejected`` is called (on a listener thread) with a sentence each time an association is rejected;
    ``rejected`` counts them.
    """

    def __init__(self, *, ae_title: str, port: int, inbox: Path, allowed_callers: Iterable[str],
                 on_received: Callable[[Path], None], bind: str = DEFAULT_BIND, timeout_s: float = 30.0,
                 artim_s: float = ARTIM_S, on_rejected: Callable[[str], None] | None = None) -> None:
        callers = [checked_ae_title(c) for c in allowed_callers]
        if not callers:
            raise DicomNetworkError("no calling AE title is allowed: list the nodes that may send films")
        self.inbox = Path(inbox)
        self._on_received = on_received
        self._on_rejected = on_rejected
        self._address = (bind, int(port))
        self._timeout_s = timeout_s
        self._artim_s = artim_s
        self._ae = AE(ae_title=checked_ae_title(ae_title))
        self._ae.require_calling_aet = callers
        self._ae.require_called_aet = True
        self._ae.maximum_associations = MAX_ASSOCIATIONS
        self._ae.acse_timeout = self._ae.dimse_timeout = self._ae.network_timeout = timeout_s
        for context in AllStoragePresentationContexts:
            if context.abstract_syntax is not None:
                self._ae.add_supported_context(context.abstract_syntax, TRANSFER_SYNTAXES)
        self._server: GuardedAssociationServer | None = None
        self.rejected = 0
        self._count_lock = threading.Lock()

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the port the system chose when 0 was asked)."""
        if self._server is None:
            return self._address
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def server(self) -> GuardedAssociationServer | None:
        """The running server (its guard's counts), or None when stopped."""
        return self._server

    def start(self) -> None:
        if not self.inbox.is_dir():
            raise DicomNetworkError(f"the inbox folder {self.inbox} does not exist")
        # pynetdicom decodes a peer's command set on its own threads, where no capture is active: pydicom's
        # warnings there (quoting a hostile UID, or a patient name) must reach the log scrubbed, not stderr.
        route_library_warnings_to_log()
        try:
            server: GuardedAssociationServer = self._ae.make_server(  # type: ignore[assignment]
                self._address, evt_handlers=[(evt.EVT_C_STORE, self._store), (evt.EVT_REJECTED, self._rejected)],
                server_class=GuardedAssociationServer, artim_s=self._artim_s, pdu_deadline_s=self._timeout_s)
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

    def _rejected(self, event: Any) -> None:
        """Log one rejected association: who called whom and why (AE titles only: no host, no patient data)."""
        requested = event.assoc.requestor.primitive
        answer = event.assoc.acceptor.primitive
        calling = _shown_ae(getattr(requested, "calling_ae_title", ""))
        called = _shown_ae(getattr(requested, "called_ae_title", ""))
        reason = _REJECT_REASONS.get((getattr(answer, "result_source", None), getattr(answer, "diagnostic", None)),
                                     "refused by the association rules")
        with self._count_lock:
            self.rejected += 1
            count = self.rejected
        message = f"rejected an association from {calling} to {called}: {reason}"
        log.warning("%s (%d rejected since listening started)", message, count)
        if self._on_rejected is not None:
            try:
                self._on_rejected(message)
            except Exception:  # the listener must go on whatever the callback does
                log.exception("the rejected association could not be reported")

    def _store(self, event: Any) -> int:
        try:
            with library_warnings_logged(_RECEIVED):
                data = event.encoded_dataset(include_meta=True)  # as sent: nothing inflated or decoded yet
                name = received_file_name(_received_header(data))
        except ImageLoadError as exc:
            log.warning("a received film was refused and not kept: %s", exc.reason)
            return _OUT_OF_RESOURCES
        except Exception:  # library boundary: a malformed command, meta or data set raises many types
            log.warning("a received instance could not be decoded; refused")
            return _CANNOT_UNDERSTAND
        if name is None:
            log.warning("a received film was refused and not kept: its SOP Instance UID is not a valid UID")
            return _CANNOT_UNDERSTAND
        target = self.inbox / name
        try:
            atomic_write_bytes(target, data)
        except (OSError, ValueError) as exc:
            log.error("a received instance could not be saved: %s", exc)
            return _OUT_OF_RESOURCES
        del data
        try:
            self._on_received(target)
        except Exception:  # the sender must get its answer whatever the callback does
            log.exception("the received film could not be queued")
        return 0x0000


def _received_header(data: bytes) -> pydicom.Dataset:
    """The header of a received file, read the way a film opened from disk is: a deflated data set is inflated
    by the bounded reader (ImageLoadError past its cap), never by pydicom whole."""
    inflated = inflated_stream(data, _RECEIVED)
    return pydicom.dcmread(inflated or io.BytesIO(data), stop_before_pixels=True)


def _shown_ae(value: object) -> str:
    """An AE title from the network as a log may show it: quoted, control characters escaped."""
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value or "")
    return ascii(text.strip()[:16])
