"""The listener's front door: idle, trickling and garbage TCP connections never lock a legitimate sender out.

pynetdicom counts every accepted connection as an association from the moment it is accepted, including one
that has sent nothing yet, and rejects new associations once ``maximum_associations`` (10) are counted; it waits
for the association request up to the ACSE timeout (30 s), and a connection that sends part of a PDU and then
trickles one byte at a time keeps its reading thread blocked indefinitely. Twelve idle connections therefore
rejected every C-STORE for 30-50 s, and twelve trickling ones for as long as they trickled.

So, before pynetdicom sees a connection:

- it must deliver a whole A-ASSOCIATE-RQ PDU (at most ``MAX_REQUEST_BYTES``) within ``ARTIM_S`` of connecting,
  wall clock, however its bytes arrive; anything else (silence, a trickle, another PDU type, garbage) is closed;
- at most ``MAX_WAITING`` connections may be waiting for their request; a new connection is never refused for
  that, the one that has waited longest is closed instead (a legitimate sender sends its request within
  milliseconds of connecting, so it is never the longest waiting);
- once the association is handed to pynetdicom, each PDU must arrive whole within ``pdu_deadline_s`` of its
  first read (a trickle inside a PDU ends the association), and the idle timer (network timeout) ends an
  association that sends nothing.

Only connections that sent a complete request count towards pynetdicom's association limit.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import struct
import threading
import time
from collections import OrderedDict
from typing import Any

from pynetdicom.transport import AssociationSocket, RequestHandler, ThreadedAssociationServer

log = logging.getLogger(__name__)
ARTIM_S = 10.0  # connect to complete association request, wall clock
MAX_WAITING = 64  # connections that have not yet delivered their association request
MAX_REQUEST_BYTES = 64 << 10  # a request proposing every storage class in every syntax is about 25 KB
_ASSOCIATE_RQ = 0x01
_PDU_HEADER = 6
_POLL_S = 0.25  # how often a waiting connection checks that it has not been closed by the guard
_LOGGED_EACH = 5  # connections closed by the guard: the first few are logged, then every 100th (a flood
_LOGGED_EVERY = 100  # must not rotate the app log away)


class GuardedAssociationServer(ThreadedAssociationServer):
    """pynetdicom's threaded server behind the guard described above. ``closed`` counts the connections it
    closed before any association, by reason ("silent", "not an association request", "made room")."""

    daemon_threads = True  # a connection still waiting for its request never delays stop()
    block_on_close = False
    # The listen backlog (socketserver's default is 5): under a burst of connections a sender's SYN is queued,
    # not dropped and retried a second later.
    request_queue_size = 128

    def __init__(self, *args: Any, artim_s: float = ARTIM_S, max_waiting: int = MAX_WAITING,
                 pdu_deadline_s: float = 30.0, **kwargs: Any) -> None:
        self.artim_s = artim_s
        self.max_waiting = max_waiting
        self.pdu_deadline_s = pdu_deadline_s
        self.closed: dict[str, int] = {}
        self._waiting: OrderedDict[socket.socket, float] = OrderedDict()
        self._lock = threading.Lock()
        kwargs["request_handler"] = _GuardedRequestHandler
        super().__init__(*args, **kwargs)

    @property
    def waiting(self) -> int:
        """Connections accepted that have not yet delivered an association request."""
        with self._lock:
            return len(self._waiting)

    def association_request(self, sock: socket.socket) -> bytes | None:
        """The A-ASSOCIATE-RQ PDU read whole from ``sock``, or None after closing it (see the module)."""
        with self._lock:
            while len(self._waiting) >= self.max_waiting:
                oldest, _ = self._waiting.popitem(last=False)
                _wake(oldest)  # its thread sees the end of stream and closes it
                self._count("made room")
            self._waiting[sock] = time.monotonic()
        try:
            pdu, why = _read_request(sock, time.monotonic() + self.artim_s)
        finally:
            with self._lock:
                evicted = self._waiting.pop(sock, None) is None
        if pdu is None and not evicted:
            self._count(why)
        return pdu

    def server_close(self) -> None:
        with self._lock:
            waiting, self._waiting = list(self._waiting), OrderedDict()
        for sock in waiting:
            _wake(sock)
        super().server_close()

    def _count(self, why: str) -> None:
        total = self.closed[why] = self.closed.get(why, 0) + 1
        if total <= _LOGGED_EACH or total % _LOGGED_EVERY == 0:
            log.info("closed a connection before any association (%s; %d so far)", why, total)


class _GuardedRequestHandler(RequestHandler):
    server: GuardedAssociationServer

    def handle(self) -> None:
        assert isinstance(self.request, socket.socket)
        request = self.server.association_request(self.request)
        if request is None:
            self.server.shutdown_request(self.request)
            return
        self._request_pdu = request
        super().handle()

    def _create_association(self) -> Any:
        assoc = super()._create_association()
        # pynetdicom builds its socket inside _create_association; the subclass only adds the request already
        # read and the per-PDU deadline, so the state machine sees the connection exactly as it arrived.
        transport = assoc.dul.socket
        assert transport is not None
        transport.__class__ = _PrefixedSocket
        assert isinstance(transport, _PrefixedSocket)
        transport.prefix = bytearray(self._request_pdu)
        transport.pdu_deadline_s = self.server.pdu_deadline_s
        return assoc


class _PrefixedSocket(AssociationSocket):
    """Serves the already-read association request first; every later read must complete in time."""

    prefix: bytearray
    pdu_deadline_s: float

    @property
    def ready(self) -> bool:
        return bool(self.prefix) or bool(super().ready)

    def recv(self, nr_bytes: int) -> bytearray:
        data = bytearray(self.prefix[:nr_bytes])
        del self.prefix[:len(data)]
        if len(data) == nr_bytes:
            return data
        sock = self.socket
        if sock is None:
            return data
        deadline = time.monotonic() + self.pdu_deadline_s
        while len(data) < nr_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                # pynetdicom treats this as the connection closing (Evt17): the association ends.
                raise TimeoutError("a PDU did not arrive whole in time")
            readable, _, _ = select.select([sock], [], [], remaining)
            if not readable:
                continue
            chunk = sock.recv(min(nr_bytes - len(data), 1 << 16))
            if not chunk:
                return data  # closed by the peer: pynetdicom sees the short read
            data += chunk
        return data


def _read_request(sock: socket.socket, deadline: float) -> tuple[bytes | None, str]:
    """Read one whole A-ASSOCIATE-RQ PDU by ``deadline``: (pdu, "") or (None, why it was not)."""
    data = bytearray()
    needed = _PDU_HEADER
    while len(data) < needed:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, "silent" if not data else "request too slow"
        try:
            readable, _, _ = select.select([sock], [], [], min(remaining, _POLL_S))
            if not readable:
                continue
            chunk = sock.recv(needed - len(data))
        except (OSError, ValueError):  # closed by the guard (made room, or the listener stopped)
            return None, "closed"
        if not chunk:
            return None, "closed by the peer"
        data += chunk
        if len(data) == _PDU_HEADER and needed == _PDU_HEADER:
            pdu_type, _, length = struct.unpack(">BBL", data)
            if pdu_type != _ASSOCIATE_RQ or not 0 < length <= MAX_REQUEST_BYTES:
                return None, "not an association request"
            needed += length
    return bytes(data), ""


def _wake(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by its peer
        sock.shutdown(socket.SHUT_RDWR)
