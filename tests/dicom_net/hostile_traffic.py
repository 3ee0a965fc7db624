"""Hostile network traffic for the listener tests and the flood benchmark: idle and trickling connections,
raw association requests, garbage PDUs, and C-STOREs of files sent exactly as they are on disk (a deflate bomb
must reach the listener still deflated)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from pydicom.filereader import read_file_meta_info
from pynetdicom import AE

ASSOCIATE_RQ_TYPE = 0x01


def store_file(address: tuple[str, int], path: Path, *, calling: str = "SENDER", called: str = "PNEUMO",
               timeout_s: float = 10) -> int | None:
    """C-STORE ``path`` as it is on disk (pynetdicom's chunked sending streams a file's encoded data set without
    decoding it); the status, or None when the association was not established."""
    from pynetdicom import _config

    meta = read_file_meta_info(path)  # the meta group only: dcmread would inflate a deflated data set
    ae = AE(ae_title=calling)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout_s
    ae.add_requested_context(meta.MediaStorageSOPClassUID, meta.TransferSyntaxUID)
    assoc = ae.associate(*address, ae_title=called)
    if not assoc.is_established:
        return None
    chunked, _config.STORE_SEND_CHUNKED_DATASET = _config.STORE_SEND_CHUNKED_DATASET, True
    try:
        status = assoc.send_c_store(path)
        return int(status.Status) if "Status" in status else None
    finally:
        _config.STORE_SEND_CHUNKED_DATASET = chunked
        assoc.release()


def associate_request_bytes(*, calling: str = "SENDER", called: str = "PNEUMO") -> bytes:
    """The A-ASSOCIATE-RQ PDU pynetdicom sends, captured from a socket that never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        ae = AE(ae_title=calling)
        ae.acse_timeout = 1
        ae.add_requested_context("1.2.840.10008.5.1.4.1.1.1")
        got: list[bytes] = []

        def capture() -> None:
            connection, _ = server.accept()
            with connection:
                data = b""
                while len(data) < 6 or len(data) < 6 + int.from_bytes(data[2:6], "big"):
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                got.append(data)

        thread = threading.Thread(target=capture)
        thread.start()
        ae.associate(*server.getsockname(), ae_title=called)
        thread.join(5)
    assert got and got[0][0] == ASSOCIATE_RQ_TYPE
    return got[0]


class Flood:
    """``idle`` connections that send nothing and ``trickling`` ones that send the start of an association
    request and then one byte every ``interval_s``; ``closed_at`` records when the listener closed each."""

    def __init__(self, address: tuple[str, int], *, idle: int, trickling: int, interval_s: float = 1.0) -> None:
        self.address = address
        self.started = time.monotonic()
        self.closed_at: list[float] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        associate_request_bytes_cache()  # once, before the threads need it
        self._threads = [threading.Thread(target=self._hold, args=(i >= idle, interval_s), daemon=True)
                         for i in range(idle + trickling)]
        for thread in self._threads:
            thread.start()

    def _hold(self, trickle: bool, interval_s: float) -> None:
        try:
            sock = socket.create_connection(self.address, timeout=interval_s)
        except OSError:
            with self._lock:
                self.closed_at.append(time.monotonic() - self.started)
            return
        payload = iter(associate_request_bytes_cache())
        with sock:
            while not self._stop.is_set():
                try:
                    if trickle:
                        sock.sendall(bytes([next(payload)]))
                    if sock.recv(1) == b"":
                        break  # the listener closed it
                except TimeoutError:
                    continue
                except (OSError, StopIteration):
                    break
        with self._lock:
            self.closed_at.append(time.monotonic() - self.started)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def wait_closed(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.closed_at) == len(self._threads):
                    return True
            time.sleep(0.1)
        return False


_RQ: list[bytes] = []


def associate_request_bytes_cache() -> bytes:
    if not _RQ:
        _RQ.append(associate_request_bytes())
    return _RQ[0]
