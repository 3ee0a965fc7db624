"""The app as a DICOM client (echo, send, query/retrieve): one way to set up an AE with a timeout on every step,
and to open an association that is released however the block ends, with a refusal or silence as one sentence."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from pynetdicom import AE
from pynetdicom.association import Association

from pneumo_desktop.dicom_net.nodes import DEFAULT_CALLING_AE, DicomNetworkError, DicomNode, checked_ae_title

DEFAULT_TIMEOUT_S = 30.0
__all__ = ["DEFAULT_CALLING_AE", "DEFAULT_TIMEOUT_S", "associated", "client_ae"]


def client_ae(calling_ae: str, timeout_s: float) -> AE:
    """An AE titled ``calling_ae`` whose connection, ACSE, DIMSE and network steps each time out."""
    ae = AE(ae_title=checked_ae_title(calling_ae))
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = timeout_s
    return ae


class associated:  # noqa: N801  (used as a context manager, like open())
    """``with associated(ae, node) as assoc:``; DicomNetworkError when the node refuses or does not answer."""

    def __init__(self, ae: AE, node: DicomNode, **kwargs: Any) -> None:
        self._assoc: Association = ae.associate(node.host, node.port, ae_title=node.ae_title, **kwargs)
        if self._assoc.is_rejected:
            raise DicomNetworkError(f"{node} refused the association (is this app's AE title {ae.ae_title!r} "
                                    "configured there, and is the node's AE title right?)")
        if not self._assoc.is_established:
            raise DicomNetworkError(f"{node} did not answer within {ae.acse_timeout:g} s (no DICOM node at that "
                                    "address, a firewall, or it timed out)")

    def __enter__(self) -> Association:
        return self._assoc

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._assoc.is_established:
            self._assoc.release()
