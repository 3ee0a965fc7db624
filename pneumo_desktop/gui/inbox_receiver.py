"""Receive (Settings ▸ DICOM Nodes ▸ listening on): the C-STORE listener's films land in the per-user inbox
and are scored into the study list (on top, newest first, marked "Received"), with a notice in the status bar.
An arrival never changes what is on screen: the reader may be reading another patient (issue 24).

pynetdicom serves associations on its own threads; the only thing that crosses back is the ``arrived`` signal
(queued onto the GUI thread). Arrivals are gathered until the sender pauses, so a PACS pushing a 200-film
study is listed at once, not row by row; a batch already running takes them into its queue. Off by default: nothing here opens a socket until ``apply`` is given a
configuration with listening on.
"""

from __future__ import annotations

import errno
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from pneumo_desktop import paths
from pneumo_desktop.dicom_net.node_config import NodeConfig
from pneumo_desktop.gui.controller import Controller

if TYPE_CHECKING:
    from pneumo_desktop.dicom_net.listener import Listener

log = logging.getLogger(__name__)
SETTLE_MS = 1000  # quiet time after the last film before the batch starts
MAX_WAIT_S = 10.0  # a sender that never pauses still gets its films scored


class InboxReceiver(QObject):
    arrived = Signal(object)  # Path, emitted on a listener thread
    listening_changed = Signal(str)  # a sentence for the status bar: where it listens, or that it stopped
    failed = Signal(str)  # the listener could not start
    films_received = Signal(int)  # how many new films were just listed
    # A sentence naming the caller's AE title and the reason, emitted on a listener thread; ``rejected`` counts
    # them this session (a misconfigured modality, or someone probing the port, shows in the status bar).
    association_rejected = Signal(str)

    def __init__(self, controller: Controller, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._listener: Listener | None = None
        self.received: list[Path] = []  # this session's films, in arrival order
        self._pending: list[Path] = []
        self._first_pending_at = 0.0
        self.rejected = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._flush)
        self.arrived.connect(self._on_arrived)
        self.association_rejected.connect(self._count_rejected)  # queued: counted on the GUI thread

    @property
    def address(self) -> tuple[str, int] | None:
        """Where the listener is bound, or None when nothing listens."""
        return self._listener.address if self._listener is not None else None

    def apply(self, config: NodeConfig) -> None:
        """Listen as ``config`` says (restarting on a change), or stop. Failures arrive as ``failed``."""
        self.stop(quiet=not config.listening)
        if not config.listening:
            return
        from pneumo_desktop.dicom_net.listener import Listener
        from pneumo_desktop.dicom_net.nodes import DicomNetworkError

        try:
            inbox = paths.inbox_dir("received")
            listener = Listener(ae_title=config.ae_title, port=config.port, inbox=inbox,
                                allowed_callers=config.allowed_callers, on_received=self.arrived.emit,
                                bind=config.bind, on_rejected=self.association_rejected.emit)
            listener.start()  # binds here (immediate); associations are served on pynetdicom's threads
        except (DicomNetworkError, OSError) as exc:
            message = f"Receiving is off: {exc}"
            cause = exc.__cause__ if isinstance(exc, DicomNetworkError) else exc
            if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
                # The usual cause at a workstation: the app opened twice (issue 24 C14).
                message += (f". Another pneumo_desktop window is probably receiving on port {config.port}: films "
                            "go to that window. Close one of them, or give this one another port.")
            self.failed.emit(message)
            return
        self._listener = listener
        host, port = listener.address
        self.listening_changed.emit(f"Receiving films as {config.ae_title} on {host}:{port} from "
                                    f"{', '.join(config.allowed_callers)}.")

    def stop(self, *, quiet: bool = False) -> None:
        """Close the socket and every association (quitting, or listening turned off)."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.stop()
        if not quiet:
            self.listening_changed.emit("Receiving stopped: the DICOM port is closed.")

    def _count_rejected(self, _message: str) -> None:
        self.rejected += 1

    def _on_arrived(self, path: Path) -> None:
        # The same instance sent again replaced its file: it is scored again, in its row.
        if not self._pending:
            self._first_pending_at = time.monotonic()
        self._pending.append(Path(path))
        waited = time.monotonic() - self._first_pending_at
        self._timer.start(0 if waited > MAX_WAIT_S else SETTLE_MS)

    def _flush(self) -> None:
        if not self._pending:
            return
        arrived = list(dict.fromkeys(self._pending))
        new = [p for p in arrived if p not in self.received]
        self.received += new
        self._pending.clear()
        # The inbox is an input folder from now on: exports refuse to write into it.
        self._controller.study.input_folders.add(paths.inbox_dir("received").resolve())
        self._controller.add_files(list(reversed(arrived)), "received")  # newest first
        self.films_received.emit(len(new))
