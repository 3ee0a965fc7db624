"""The app as a DICOM client (echo, send, query/retrieve): one way to set up an AE with a timeout on every step,
and to open an association that is released however the block ends, with a refusal or silence as one sentence.

pynetdicom's calls block (associating waits up to the ACSE timeout, a C-STORE up to the DIMSE timeout), so a
``should_stop`` that is only polled between steps cannot stop a node that never answers. ``associated`` watches
``should_stop`` on a thread of its own and, when it turns true, closes the association's transport connection:
pynetdicom's state machine then aborts the association and wakes whoever waits on it (the A-ASSOCIATE answer, a
C-STORE response). Cancelling a send, or quitting the window during one, ends it within a tenth of a second
instead of at its timeout. (A TCP connect that a firewall leaves unanswered still waits for the connection
timeout: there is no association to close yet.)
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from pynetdicom import AE, evt
from pynetdicom.association import Association

from pneumo_desktop.dicom_net.nodes import DEFAULT_CALLING_AE, DicomNetworkError, DicomNode, checked_ae_title

DEFAULT_TIMEOUT_S = 30.0
CANCEL_POLL_S = 0.1
__all__ = ["DEFAULT_CALLING_AE", "DEFAULT_TIMEOUT_S", "associated", "client_ae", "connection_failure",
           "NoServiceAccepted", "why_not_associated"]


def client_ae(calling_ae: str, timeout_s: float) -> AE:
    """An AE titled ``calling_ae`` whose connection, ACSE, DIMSE and network steps each time out."""
    ae = AE(ae_title=checked_ae_title(calling_ae))
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = timeout_s
    return ae


class NoServiceAccepted(DicomNetworkError):
    """The node answered the association request but accepted none of its presentation contexts."""


class associated:  # noqa: N801  (used as a context manager, like open())
    """``with associated(ae, node) as assoc:``; DicomNetworkError when the node refuses or does not answer, or
    when ``should_stop`` turned true (the association is then aborted, even while it waits for the node)."""

    def __init__(self, ae: AE, node: DicomNode, *, should_stop: Callable[[], bool] = lambda: False,
                 **kwargs: Any) -> None:
        self._done = threading.Event()
        self._stopped = threading.Event()
        self._live: Association | None = None  # known from the connection's opening, before associate() returns
        kwargs["evt_handlers"] = [*kwargs.get("evt_handlers", []), (evt.EVT_CONN_OPEN, self._opened)]
        threading.Thread(target=self._watch, args=(should_stop,), name="pneumo-dicom-cancel", daemon=True).start()
        started = time.monotonic()
        try:
            self._assoc: Association = ae.associate(node.host, node.port, ae_title=node.ae_title, **kwargs)
            if self._stopped.is_set():
                raise DicomNetworkError(f"cancelled: the association with {node} was aborted")
            if self._assoc.is_rejected:
                raise DicomNetworkError(f"{node} refused the association (is this app's AE title "
                                        f"{ae.ae_title!r} configured there, and is the node's AE title right?)")
            if not self._assoc.is_established and self._assoc.rejected_contexts \
                    and not self._assoc.accepted_contexts:
                # pynetdicom aborts an association in which the node accepted none of the services asked for.
                wanted = sorted({cx.abstract_syntax.name for cx in self._assoc.rejected_contexts
                                 if cx.abstract_syntax is not None and "Storage" not in cx.abstract_syntax.name})
                raise NoServiceAccepted(f"{node} answered but accepted none of the services this app asked for "
                                        f"({', '.join(wanted) or 'storage'})")
            if not self._assoc.is_established:
                raise DicomNetworkError(why_not_associated(node, ae, connected=self._live is not None,
                                                           waited_s=time.monotonic() - started))
        except BaseException:
            self._done.set()  # the watcher ends with the association
            raise

    def _opened(self, event: Any) -> None:  # fires only once the TCP connection is up
        self._live = event.assoc

    def _watch(self, should_stop: Callable[[], bool]) -> None:
        while not self._done.wait(CANCEL_POLL_S):
            if should_stop():
                self._stopped.set()
                live = self._live
                if live is not None and live.dul.socket is not None:
                    live.dul.socket.close()  # Evt17 "transport connection closed": the state machine aborts
                return

    def __enter__(self) -> Association:
        return self._assoc

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._done.set()
        if self._assoc.is_established:
            self._assoc.release()


def why_not_associated(node: DicomNode, ae: AE, *, connected: bool, waited_s: float) -> str:
    """The real reason no association came about, as a sentence: pynetdicom only says "not established" and
    logs the socket error, so the cause is told from whether the TCP connection opened and how long it took."""
    acse_s, connect_s = float(ae.acse_timeout or DEFAULT_TIMEOUT_S), float(ae.connection_timeout or DEFAULT_TIMEOUT_S)
    if connected:
        if waited_s >= acse_s * 0.9:
            return (f"{node} accepted the connection but did not answer the association request within "
                    f"{waited_s:.0f} s (is it a DICOM node, and is the port the DICOM port rather than a web port?)")
        return (f"{node} accepted the connection and then closed it without answering the association request "
                f"after {waited_s:.1f} s (a node that drops unknown callers, or not a DICOM port)")
    if waited_s >= connect_s * 0.9:
        return (f"{node} did not accept a connection: timed out after {waited_s:.0f} s (the host is off or "
                "unreachable, or a firewall drops the traffic)")
    # The connection failed at once: ask the system why, with one more attempt (it fails as fast again).
    return f"{node}: {connection_failure(node.host, node.port, timeout_s=min(connect_s, 5.0))}"


def connection_failure(host: str, port: int, *, timeout_s: float) -> str:
    """Why a TCP connection to ``host:port`` fails now, in words ("" when it succeeds)."""
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return "the connection opened and then failed; try again"
    except socket.gaierror:
        return f"the host name {host!r} is not known (check the spelling, or use its IP address)"
    except ConnectionRefusedError:
        return (f"connection refused: nothing listens on port {port} of {host} (is the DICOM service running, "
                "and is the port right?)")
    except TimeoutError:
        return f"timed out after {time.monotonic() - started:.0f} s waiting for a connection"
    except OSError as exc:
        if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN):
            return f"host unreachable: no network route to {host} (check the address and the network)"
        return f"the connection failed ({exc.strerror or exc})"
