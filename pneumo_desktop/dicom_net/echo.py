"""C-ECHO: does a configured node answer, and does it accept this app's AE title? (Settings ▸ DICOM nodes.)"""

from __future__ import annotations

from collections.abc import Callable

from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from pneumo_desktop.dicom_net.association import DEFAULT_CALLING_AE, DEFAULT_TIMEOUT_S, associated, client_ae
from pneumo_desktop.dicom_net.nodes import DicomNetworkError, DicomNode


def verify_node(node: DicomNode, *, calling_ae: str = DEFAULT_CALLING_AE, timeout_s: float = DEFAULT_TIMEOUT_S,
                should_stop: Callable[[], bool] = lambda: False) -> str:
    """A sentence saying the node answered; DicomNetworkError says why not."""
    ae = client_ae(calling_ae, timeout_s)
    ae.add_requested_context(Verification)
    with associated(ae, node, should_stop=should_stop) as assoc:
        status = assoc.send_c_echo()
    code = getattr(status, "Status", None)
    if code is None:
        raise DicomNetworkError(f"{node} accepted the association but did not answer the echo")
    if code != 0x0000:
        raise DicomNetworkError(f"{node} answered the echo with status 0x{code:04X}")
    return f"{node} answered (C-ECHO succeeded)"
