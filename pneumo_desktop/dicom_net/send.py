"""C-STORE SCU: send DICOM files to a configured node, with a timeout on every step of the association.

One association for all the files; a file the node refuses is named with its status, and a node that does not
answer, refuses the association or drops it mid-way gives one sentence instead of a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pydicom

from pneumo_desktop.dicom_net.association import DEFAULT_CALLING_AE, DEFAULT_TIMEOUT_S, associated, client_ae
from pneumo_desktop.dicom_net.nodes import DicomNetworkError, DicomNode

log = logging.getLogger(__name__)


@dataclass
class SendOutcome:
    sent: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def send_files(node: DicomNode, paths: Sequence[Path], *, calling_ae: str = DEFAULT_CALLING_AE,
               timeout_s: float = DEFAULT_TIMEOUT_S, should_stop: Callable[[], bool] = lambda: False
               ) -> SendOutcome:
    """Send ``paths`` to ``node``; DicomNetworkError when no association could be made or it broke."""
    datasets = [(Path(p), pydicom.dcmread(p)) for p in paths]
    ae = client_ae(calling_ae, timeout_s)
    contexts = sorted({(str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)) for _, ds in datasets})
    if len(contexts) > 128:  # the most one association may propose (PS3.8 9.3.2.2)
        raise DicomNetworkError(f"{len(contexts)} kinds of object in one send; send them in smaller groups")
    for sop_class, transfer_syntax in contexts:
        ae.add_requested_context(sop_class, transfer_syntax)
    outcome = SendOutcome()
    with associated(ae, node, should_stop=should_stop) as assoc:
        for path, ds in datasets:
            if should_stop():
                outcome.failed += [(p, "cancelled") for p, _ in datasets[len(outcome.sent) + len(outcome.failed):]]
                break
            try:
                # The peer may drop the association between two files: pynetdicom then refuses to send.
                status = assoc.send_c_store(ds) if assoc.is_established else None
            except RuntimeError:
                status = None
            code = getattr(status, "Status", None)
            if code is None and should_stop():  # cancelled: ``associated`` aborted the association mid-file
                outcome.failed += [(p, "cancelled") for p, _ in datasets[len(outcome.sent) + len(outcome.failed):]]
                break
            if code is None:
                raise DicomNetworkError(f"{node} stopped answering while {path.name} was sent "
                                        f"({len(outcome.sent)} of {len(datasets)} files were stored)")
            if code in (0x0000, 0xB000, 0xB006, 0xB007):  # success, or stored with a coercion warning
                outcome.sent.append(path)
            else:
                outcome.failed.append((path, f"refused with status 0x{code:04X}"))
    return outcome
