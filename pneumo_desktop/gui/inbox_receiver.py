"""Receive (Settings ▸ DICOM Nodes ▸ listening on): the C-STORE listener's films land in the per-user inbox
and are scored in the study list like a batch, newest first, with a notice in the status bar.

pynetdicom serves associations on its own threads; the only thing that crosses back is the ``arrived`` signal
(queued onto the GUI thread). Arrivals are gathered until the sender pauses, so a PACS pushing a 200-film
study starts one batch, not 200. Off by default: nothing here opens a socket until ``apply`` is given a
configuration with listening on.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from pneumo_desktop import paths
from pneumo_desktop.dicom_net.node_config import NodeConfig
from pneumo_desktop.gui.controller import Controller
from pneumo_desktop.gui.jobs import BatchItemResult

if TYPE_CHECKING:
    from pneumo_desktop.dicom_net.listener import Listener

log = logging.getLogger(__name__)
SETTLE_MS = 1000  # quiet time after the last film before the batch starts
MAX_WAIT_S = 10.0  # a sender that never pauses still gets its films scored
BUSY_RETRY_MS = 2000  # the user's own batch runs: the received films wait for it


class InboxReceiver(QObject):
    arrived = Signal(object)  # Path, emitted on a listener thread
    listening_changed = Signal(str)  # a sentence for the status bar: where it listens, or that it stopped
    failed = Signal(str)  # the listener could not start
    films_received = Signal(int)  # how many films the new batch shows
    # A sentence naming the caller's AE title and the reason, emitted on a listener thread; ``rejected`` counts
    # them this session (a misconfigured modality, or someone probing the port, shows in the status bar).
    association_rejected = Signal(str)

    def __init__(self, controller: Controller, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._listener: Listener | None = None
        self.received: list[Path] = []  # this session's films, in arrival order
        self._pending: list[Path] = []
        # What each received film scored: a new arrival lists every film of the session again, newest first,
        # and the earlier ones are shown from here rather than scored (and audited) a second time.
        self._results: dict[Path, BatchItemResult] = {}
        controller.batch_item.connect(self._remember)
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
            self.failed.emit(f"Receiving is off: {exc}")
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

    def _remember(self, result: BatchItemResult) -> None:
        if result.error is None and result.path in self.received:
            self._results[result.path] = result

    def _on_arrived(self, path: Path) -> None:
        # The same instance sent again replaced its file: it is scored again.
        self._results.pop(Path(path), None)
        if not self._pending:
            self._first_pending_at = time.monotonic()
        self._pending.append(Path(path))
        waited = time.monotonic() - self._first_pending_at
        self._timer.start(0 if waited > MAX_WAIT_S else SETTLE_MS)

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._controller.batch_running() and not self._showing_inbox():
            self._timer.start(BUSY_RETRY_MS)
            return
        new = [p for p in self._pending if p not in self.received]
        self.received += new
        self._pending.clear()
        # The inbox is an input folder from now on: exports refuse to write into it.
        self._controller.study.input_folders.add(paths.inbox_dir("received").resolve())
        newest_first = list(reversed(self.received))
        self._controller.start_batch(newest_first, known=self._results)
        self.films_received.emit(len(new))

    def _showing_inbox(self) -> bool:
        return self._controller.batch_files() == list(reversed(self.received))
