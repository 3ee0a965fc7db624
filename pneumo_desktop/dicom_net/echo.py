"""Verify (Settings ▸ DICOM Nodes): does a configured node answer, and will it do what this app needs of it?

A C-ECHO alone proves little: Orthanc, like many archives, echoes any caller and then aborts the first real
request of one it does not know. So Verify tries, on one association, what the app will ask: a C-ECHO, a study
search (C-FIND at study level, for a study UID no archive holds, so no patient data comes back), and for a node
that retrieves by C-MOVE a move of that same non-existent study to this app's AE title. A move destination the
archive does not know may be refused then (status 0xA801), but Orthanc looks for the study first (0xC000) and
DCMTK's dcmqrscp answers success when nothing matches: with nothing to send, neither says whether it knows or
can reach the destination, and Verify says so rather than claim it. Each step is said plainly, and a failure
names the step the node refused.
"""

from __future__ import annotations

from collections.abc import Callable

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from pneumo_desktop.dicom_net.association import DEFAULT_CALLING_AE, DEFAULT_TIMEOUT_S, associated, client_ae
from pneumo_desktop.dicom_net.nodes import C_MOVE, DicomNetworkError, DicomNode
from pneumo_desktop.dicom_net.query_retrieve import failure_advice

_PENDING = (0xFF00, 0xFF01)


def verify_node(node: DicomNode, *, calling_ae: str = DEFAULT_CALLING_AE, timeout_s: float = DEFAULT_TIMEOUT_S,
                should_stop: Callable[[], bool] = lambda: False, move_aet: str | None = None) -> str:
    """A sentence saying each step the node passed; DicomNetworkError says which step it refused and why.
    ``move_aet`` (this app's receiving AE title, by default ``calling_ae``) is checked for C-MOVE nodes."""
    destination = move_aet or calling_ae
    ae = client_ae(calling_ae, timeout_s)
    for context in (Verification, StudyRootQueryRetrieveInformationModelFind):
        ae.add_requested_context(context)
    if node.retrieve == C_MOVE:
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
    done: list[str] = []
    with associated(ae, node, should_stop=should_stop) as assoc:
        code = getattr(assoc.send_c_echo(), "Status", None)
        if code is None:
            raise DicomNetworkError(f"{node} accepted the association but did not answer the echo (C-ECHO)")
        if code != 0x0000:
            raise DicomNetworkError(f"{node} answered the echo (C-ECHO) with failure status 0x{code:04X}")
        done.append("C-ECHO succeeded")
        query = _unknown_study()
        query.PatientID = ""
        _step(done, node, "a study search (C-FIND)", calling_ae, "C-FIND",
              lambda: assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind))
        if node.retrieve == C_MOVE:
            _step(done, node, f"a C-MOVE to this app's AE title {destination!r}", calling_ae, C_MOVE,
                  lambda: assoc.send_c_move(_unknown_study(), destination, StudyRootQueryRetrieveInformationModelMove),
                  move_aet=destination, unsure=True)
    if node.retrieve == C_MOVE:
        done.append(f"the films of a retrieve will come to {destination!r} at the address and port {node.ae_title} "
                    "lists for it, so this app must be listening there")
    return f"{node} answered: {'; '.join(done)}."


def _unknown_study() -> Dataset:
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = generate_uid()  # no archive holds it: nothing is found, nothing is sent
    return query


def _step(done: list[str], node: DicomNode, what: str, calling_ae: str, operation: str, send: Callable[[], object],
          move_aet: str = "", unsure: bool = False) -> None:
    """Run one request; its success joins ``done``, its refusal raises with the steps that passed before it.
    ``unsure``: only "move destination unknown" (0xA801) is a refusal; another failure for the study no archive
    holds says nothing about the destination (Orthanc looks for the study first and answers 0xC000)."""
    passed = f"{'; '.join(done)}, but " if done else ""
    try:
        responses = list(send())  # type: ignore[call-overload]
    except ValueError:  # pynetdicom: the node accepted no presentation context for this service
        raise DicomNetworkError(f"{node}: {passed}it does not offer {operation}, so {what} is impossible") from None
    for status, _identifier in responses:
        code = getattr(status, "Status", None)
        if code is None:
            raise DicomNetworkError(f"{node}: {passed}it aborted {what}: it does not accept this app's AE title "
                                    f"{calling_ae!r} for that (add it to the node's list of DICOM modalities, with "
                                    "this computer's address)")
        if code in _PENDING:
            continue
        if code in (0x0000, 0xB000) and unsure:
            done.append(f"{what} was accepted, but with nothing to send (a study it does not hold) that does not "
                        f"show whether {node.ae_title} can reach {move_aet!r}: the first retrieve will tell")
            return
        if code in (0x0000, 0xB000):
            done.append(f"{what} succeeded")
            return
        if unsure and code != 0xA801:
            done.append(f"{what} was not refused for the destination, but {node.ae_title} did not say whether it "
                        f"knows {move_aet!r} (it answered status 0x{code:04X} for a study it does not hold, as an "
                        "archive that looks for the study before the destination does): the first retrieve will tell")
            return
        raise DicomNetworkError(f"{node}: {passed}it refused {what}: "
                                f"{failure_advice(code, node, operation, calling_ae=calling_ae, move_aet=move_aet)}")
    raise DicomNetworkError(f"{node}: {passed}it gave no answer to {what}")
