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

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from pynetdicom import AE, evt
from pynetdicom.association import Association

from pneumo_desktop.dicom_net.nodes import DEFAULT_CALLING_AE, DicomNetworkError, DicomNode, checked_ae_title

DEFAULT_TIMEOUT_S = 30.0
CANCEL_POLL_S = 0.1
__all__ = ["DEFAULT_CALLING_AE", "DEFAULT_TIMEOUT_S", "associated", "client_ae"]


def client_ae(calling_ae: str, timeout_s: float) -> AE:
    """An AE titled ``calling_ae`` whose connection, ACSE, DIMSE and network steps each time out."""
    ae = AE(ae_title=checked_ae_title(calling_ae))
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = timeout_s
    return ae


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
        try:
            self._assoc: Association = ae.associate(node.host, node.port, ae_title=node.ae_title, **kwargs)
            if self._stopped.is_set():
                raise DicomNetworkError(f"cancelled: the association with {node} was aborted")
            if self._assoc.is_rejected:
                raise DicomNetworkError(f"{node} refused the association (is this app's AE title "
                                        f"{ae.ae_title!r} configured there, and is the node's AE title right?)")
            if not self._assoc.is_established:
                raise DicomNetworkError(f"{node} did not answer within {ae.acse_timeout:g} s (no DICOM node at "
                                        "that address, a firewall, or it timed out)")
        except BaseException:
            self._done.set()  # the watcher ends with the association
            raise

    def _opened(self, event: Any) -> None:
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
