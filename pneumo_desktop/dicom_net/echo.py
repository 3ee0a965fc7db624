"""C-ECHO: does a configured node answer, and does it accept this app's AE title? (Settings ▸ DICOM nodes.)"""

from __future__ import annotations

from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from pneumo_desktop.dicom_net.nodes import DicomNetworkError, DicomNode, checked_ae_title
from pneumo_desktop.dicom_net.send import DEFAULT_CALLING_AE, DEFAULT_TIMEOUT_S


def verify_node(node: DicomNode, *, calling_ae: str = DEFAULT_CALLING_AE,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """A sentence saying the node answered; DicomNetworkError says why not."""
    ae = AE(ae_title=checked_ae_title(calling_ae))
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = timeout_s
    ae.add_requested_context(Verification)
    assoc = ae.associate(node.host, node.port, ae_title=node.ae_title)
    if assoc.is_rejected:
        raise DicomNetworkError(f"{node} refused the association (is this app's AE title {calling_ae!r} "
                                "configured there, and is the node's AE title right?)")
    if not assoc.is_established:
        raise DicomNetworkError(f"{node} did not answer within {timeout_s:g} s (no DICOM node at that address, "
                                "or a firewall)")
    try:
        status = assoc.send_c_echo()
    finally:
        if assoc.is_established:
            assoc.release()
    code = getattr(status, "Status", None)
    if code is None:
        raise DicomNetworkError(f"{node} accepted the association but did not answer the echo")
    if code != 0x0000:
        raise DicomNetworkError(f"{node} answered the echo with status 0x{code:04X}")
    return f"{node} answered (C-ECHO succeeded)"
