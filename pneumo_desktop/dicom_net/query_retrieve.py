"""Query/retrieve from a configured PACS: C-FIND studies by patient id, name, accession or date, and fetch the
chest radiograph series (CR or DX) of one study into a folder, where they are scored like a batch.

Two ways to fetch, as the node's settings say (DicomNode.retrieve): C-GET brings the films back on the
association this app opened, so the PACS needs no route to this computer; C-MOVE, which many archives offer
alone, has the PACS open an association to this app's receiving AE. For C-MOVE the films go to the app's
listener: a running one (they land in the inbox and are scored as received films), or one opened for the
retrieve only, on the configured port, into the retrieve's folder.

Presentation contexts: one per (film class, transfer syntax). Proposing one context per class that lists every
syntax lets the PACS accept that context with one syntax (uncompressed) and then fail on every film it cannot
transcode into it (Orthanc without GDCM: J2K films, "failure status 0xC000"); with one context per syntax it
accepts the film's own syntax and sends it as stored.
"""
from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import build_role, evt
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ComputedRadiographyImageStorage,
    DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing,
    SecondaryCaptureImageStorage,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
)

from pneumo_desktop.core.atomic import atomic_write_bytes
from pneumo_desktop.dicom_net.association import (
    DEFAULT_CALLING_AE,
    DEFAULT_TIMEOUT_S,
    NoServiceAccepted,
    associated,
    client_ae,
)
from pneumo_desktop.dicom_net.listener import TRANSFER_SYNTAXES, Listener
from pneumo_desktop.dicom_net.nodes import C_GET, C_MOVE, DicomNetworkError, DicomNode
from pneumo_desktop.dicom_net.received_files import received_file_name

log = logging.getLogger(__name__)
CHEST_MODALITIES = ("CR", "DX")
# Chest films are stored as CR or DX, and converted ones (NIH, RSNA) as Secondary Capture with Modality CR/DX.
_FILM_CLASSES = (ComputedRadiographyImageStorage, DigitalXRayImageStorageForPresentation,
                 DigitalXRayImageStorageForProcessing, SecondaryCaptureImageStorage)
_UID = re.compile(r"^[0-9.]{1,64}$")
_PENDING = (0xFF00, 0xFF01)


@dataclass(frozen=True)
class StudyMatch:
    study_uid: str
    patient_name: str
    patient_id: str
    study_date: str
    accession_number: str
    description: str


def find_studies(node: DicomNode, *, patient_id: str = "", patient_name: str = "", accession_number: str = "",
                 study_date: str = "", calling_ae: str = DEFAULT_CALLING_AE, timeout_s: float = DEFAULT_TIMEOUT_S,
                 should_stop: Callable[[], bool] = lambda: False) -> list[StudyMatch]:
    """Studies matching every criterion given (DICOM matching: ``*`` wildcards in the name, a date range
    as ``YYYYMMDD-YYYYMMDD``)."""
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.PatientID, query.PatientName = patient_id, patient_name
    query.AccessionNumber, query.StudyDate = accession_number, study_date
    query.StudyInstanceUID = query.StudyDescription = ""
    ae = client_ae(calling_ae, timeout_s)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    matches = []
    with associated(ae, node, should_stop=should_stop) as assoc:
        for identifier in _responses(assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind), node,
                                     calling_ae):
            matches.append(StudyMatch(
                str(identifier.get("StudyInstanceUID", "")), str(identifier.get("PatientName", "")),
                str(identifier.get("PatientID", "")), str(identifier.get("StudyDate", "")),
                str(identifier.get("AccessionNumber", "")), str(identifier.get("StudyDescription", ""))))
    return matches


def chest_series(node: DicomNode, study_uid: str, *, calling_ae: str = DEFAULT_CALLING_AE,
                 timeout_s: float = DEFAULT_TIMEOUT_S, should_stop: Callable[[], bool] = lambda: False) -> list[str]:
    """The Series Instance UIDs of the study's CR and DX series."""
    query = Dataset()
    query.QueryRetrieveLevel = "SERIES"
    query.StudyInstanceUID = study_uid
    query.SeriesInstanceUID = query.Modality = ""
    ae = client_ae(calling_ae, timeout_s)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    with associated(ae, node, should_stop=should_stop) as assoc:
        found = list(_responses(assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind), node,
                                calling_ae))
    return [str(s.SeriesInstanceUID) for s in found if str(s.get("Modality", "")).upper() in CHEST_MODALITIES]


@dataclass(frozen=True)
class MoveDestination:
    """This app's receiving AE as C-MOVE names it: the AE title the PACS knows, and where the app listens."""
    ae_title: str
    bind: str
    port: int
    allowed_callers: tuple[str, ...] = ()  # besides the PACS's own AE title


@dataclass(frozen=True)
class Retrieved:
    """What a retrieve brought: the films written, and a sentence about any the PACS could not send ("" when
    every film came)."""
    films: list[Path]
    problem: str = ""


def retrieve_chest_films(node: DicomNode, study_uid: str, dest: Path, *, calling_ae: str = DEFAULT_CALLING_AE,
                         timeout_s: float = DEFAULT_TIMEOUT_S, should_stop: Callable[[], bool] = lambda: False,
                         move_to: MoveDestination | None = None) -> Retrieved:
    """Fetch the study's chest series into ``dest`` by the node's retrieve method (C-MOVE opens ``move_to``'s
    listener for the retrieve); DicomNetworkError when the study has none or nothing could be fetched."""
    series = chest_series(node, study_uid, calling_ae=calling_ae, timeout_s=timeout_s, should_stop=should_stop)
    if not series:
        raise DicomNetworkError(f"the study on {node} has no CR or DX series: no chest radiograph to score")
    if node.retrieve == C_MOVE:
        if move_to is None:
            raise DicomNetworkError(f"{node} is set to retrieve by C-MOVE, which needs this app's receiving AE")
        return _move_into(node, study_uid, series, dest, move_to, calling_ae, timeout_s, should_stop)
    return _get_into(node, study_uid, series, dest, calling_ae, timeout_s, should_stop)


def move_chest_films(node: DicomNode, study_uid: str, move_aet: str, *, calling_ae: str = DEFAULT_CALLING_AE,
                     timeout_s: float = DEFAULT_TIMEOUT_S, should_stop: Callable[[], bool] = lambda: False
                     ) -> tuple[int, str]:
    """C-MOVE the study's chest series to ``move_aet`` (a listener already running): the number of films the
    PACS says it sent, and a sentence about any it could not ("" when none). DicomNetworkError when the study
    has no chest series or the PACS sent none."""
    series = chest_series(node, study_uid, calling_ae=calling_ae, timeout_s=timeout_s, should_stop=should_stop)
    if not series:
        raise DicomNetworkError(f"the study on {node} has no CR or DX series: no chest radiograph to score")
    tally = _send_moves(node, study_uid, series, move_aet, calling_ae, timeout_s, should_stop)
    if tally.completed == 0 and not should_stop():
        raise DicomNetworkError(tally.problem or f"{node} sent no film to {move_aet!r}")
    return tally.completed, tally.problem


def _get_into(node: DicomNode, study_uid: str, series: list[str], dest: Path, calling_ae: str, timeout_s: float,
              should_stop: Callable[[], bool]) -> Retrieved:
    received: list[Path] = []

    def store(event: Any) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        name = received_file_name(ds)
        if name is None:
            return 0xC000
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        target = Path(dest) / name
        atomic_write_bytes(target, buffer.getvalue())
        received.append(target)
        return 0x0000

    ae = client_ae(calling_ae, timeout_s)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    for sop_class in _FILM_CLASSES:
        for syntax in TRANSFER_SYNTAXES:
            ae.add_requested_context(sop_class, syntax)
    roles = [build_role(sop_class, scp_role=True) for sop_class in _FILM_CLASSES]
    tally = _Tally()
    try:
        association = associated(ae, node, should_stop=should_stop, ext_neg=roles,
                                 evt_handlers=[(evt.EVT_C_STORE, store)])
    except NoServiceAccepted as exc:
        raise DicomNetworkError(f"{node} does not offer C-GET ({exc}); set it to retrieve by C-MOVE in "
                                "Settings ▸ DICOM Nodes") from None
    with association as assoc:
        for series_uid in series:
            if should_stop():
                break
            responses = _retrieve_requests(lambda q: assoc.send_c_get(q, StudyRootQueryRetrieveInformationModelGet),
                                           node, C_GET)
            tally.add(_final(responses(_series_query(study_uid, series_uid)), node, C_GET, calling_ae))
    return _outcome(node, received, tally, should_stop, C_GET)


def _move_into(node: DicomNode, study_uid: str, series: list[str], dest: Path, move_to: MoveDestination,
               calling_ae: str, timeout_s: float, should_stop: Callable[[], bool]) -> Retrieved:
    received: list[Path] = []
    callers = list(dict.fromkeys((node.ae_title, *move_to.allowed_callers)))
    listener = Listener(ae_title=move_to.ae_title, port=move_to.port, inbox=Path(dest), allowed_callers=callers,
                        on_received=received.append, bind=move_to.bind, timeout_s=timeout_s)
    try:
        listener.start()
    except DicomNetworkError as exc:
        raise DicomNetworkError(f"retrieving by C-MOVE needs this app's receiving port, and {exc} (another program "
                                "may use the port: choose another in Settings ▸ DICOM Nodes)") from exc
    try:
        tally = _send_moves(node, study_uid, series, move_to.ae_title, calling_ae, timeout_s, should_stop)
    finally:
        listener.stop()
    # The PACS waits for each film's C-STORE answer before its final C-MOVE answer, and the listener writes the
    # file before it answers: every film the PACS counted is on disk here.
    return _outcome(node, received, tally, should_stop, C_MOVE, move_aet=move_to.ae_title, port=move_to.port)


def _send_moves(node: DicomNode, study_uid: str, series: list[str], move_aet: str, calling_ae: str,
                timeout_s: float, should_stop: Callable[[], bool]) -> _Tally:
    ae = client_ae(calling_ae, timeout_s)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
    tally = _Tally()
    with associated(ae, node, should_stop=should_stop) as assoc:
        for series_uid in series:
            if should_stop():
                break
            responses = _retrieve_requests(
                lambda q: assoc.send_c_move(q, move_aet, StudyRootQueryRetrieveInformationModelMove), node, C_MOVE)
            tally.add(_final(responses(_series_query(study_uid, series_uid)), node, C_MOVE, calling_ae,
                             move_aet=move_aet))
    return tally


def _series_query(study_uid: str, series_uid: str) -> Dataset:
    query = Dataset()
    query.QueryRetrieveLevel = "SERIES"
    query.StudyInstanceUID, query.SeriesInstanceUID = study_uid, series_uid
    return query


def _retrieve_requests(send: Callable[[Dataset], Iterator[tuple[Dataset, Dataset | None]]], node: DicomNode,
                       operation: str) -> Callable[[Dataset], Iterator[tuple[Dataset, Dataset | None]]]:
    """``send`` with pynetdicom's "no accepted context" error said as the missing service."""
    def responses(query: Dataset) -> Iterator[tuple[Dataset, Dataset | None]]:
        try:
            yield from send(query)
        except ValueError as exc:  # pynetdicom: no presentation context was accepted for the retrieve model
            other = C_MOVE if operation == C_GET else C_GET
            raise DicomNetworkError(f"{node} does not offer {operation} ({exc}); set it to retrieve by {other} in "
                                    "Settings ▸ DICOM Nodes") from None
    return responses


@dataclass
class _Tally:
    completed: int = 0
    failed: int = 0
    warning: int = 0
    problem: str = ""

    code: int = 0x0000
    node: DicomNode | None = None
    operation: str = ""

    def add(self, other: _Tally) -> None:
        self.completed += other.completed
        self.failed += other.failed
        self.warning += other.warning
        self.problem = self.problem or other.problem
        self.code = self.code or other.code
        if self.failed and other.node is not None:  # the sentence counts the films of every series
            self.problem = _failed_films(other.node, self, self.code, other.operation)


def _final(responses: Iterator[tuple[Dataset, Dataset | None]], node: DicomNode, operation: str, calling_ae: str,
           move_aet: str = "") -> _Tally:
    """The counts of the final C-GET/C-MOVE answer, and a sentence when it is not a plain success."""
    tally = _Tally()
    for status, _identifier in responses:
        code = getattr(status, "Status", None)
        if code is None:
            hint = f"; check that it lists this app's AE title {calling_ae!r} as a DICOM modality" if calling_ae else ""
            raise DicomNetworkError(f"{node} stopped answering (the association was aborted or timed out{hint})")
        if code in _PENDING:
            continue
        tally.completed = int(status.get("NumberOfCompletedSuboperations", 0) or 0)
        tally.failed = int(status.get("NumberOfFailedSuboperations", 0) or 0)
        tally.warning = int(status.get("NumberOfWarningSuboperations", 0) or 0)
        tally.code, tally.node, tally.operation = code, node, operation
        if code != 0x0000 and tally.failed:
            tally.problem = _failed_films(node, tally, code, operation)
        elif code != 0x0000:
            tally.problem = failure_advice(code, node, operation, calling_ae=calling_ae, move_aet=move_aet)
    return tally


def _failed_films(node: DicomNode, tally: _Tally, code: int, operation: str) -> str:
    """Some films were not sent. Archives give this several statuses (0xB000, 0xA702 "out of resources", 0xC000),
    whatever the cause; the usual one is a film stored compressed that the PACS cannot convert into a syntax
    the receiving side accepted (DCMTK's dcmqrscp, Orthanc without GDCM)."""
    total = tally.failed + tally.completed + tally.warning
    where = "this app" if operation == C_GET else "the move destination"
    return (f"{node} could not send {tally.failed} of {total} film{'' if total == 1 else 's'} (status 0x{code:04X}, "
            f"sub-operations failed): its log names them; most often a film stored compressed that it cannot "
            f"convert into a transfer syntax {where} accepted")


def _outcome(node: DicomNode, received: list[Path], tally: _Tally, should_stop: Callable[[], bool], operation: str,
             *, move_aet: str = "", port: int = 0) -> Retrieved:
    films = list(dict.fromkeys(received))  # a film sent twice is one file
    if should_stop():
        return Retrieved(films)
    if not films:
        if tally.problem:
            raise DicomNetworkError(tally.problem)
        if operation == C_MOVE and tally.completed:
            raise DicomNetworkError(f"{node} says it sent {tally.completed} film(s) to {move_aet!r} but none "
                                    f"arrived here: its entry for {move_aet!r} must point to this computer's "
                                    f"address and port {port}")
        raise DicomNetworkError(f"{node} sent no film of the study ({operation} found nothing to send)")
    return Retrieved(films, tally.problem)


def failure_advice(code: int, node: DicomNode, operation: str, *, calling_ae: str = "", move_aet: str = "") -> str:
    """A query/retrieve failure status in words, with what to do about it (PS3.4 C.4.2.1.5, C.4.3.1.4)."""
    hex_code = f"status 0x{code:04X}"
    if code == 0xB000:
        return (f"{node} reported that some films could not be sent ({hex_code}, sub-operations failed); its log "
                "names them, most often a film it could not convert to a form the receiving side accepts")
    if code == 0xFE00:
        return f"{node} cancelled the {operation} ({hex_code})"
    if code == 0x0122:
        other = C_MOVE if operation == C_GET else C_GET
        return (f"{node} does not support {operation} ({hex_code}, SOP class not supported); set it to retrieve by "
                f"{other} in Settings ▸ DICOM Nodes")
    if code == 0x0124:
        return (f"{node} refused the {operation} ({hex_code}, not authorised): it does not allow this app's AE title "
                f"{calling_ae!r} to retrieve; ask its administrator")
    if code == 0xA801:
        return (f"{node} does not know the move destination {move_aet!r} ({hex_code}): add {move_aet!r} to its "
                "DICOM nodes (modalities) with this computer's address and the app's receiving port")
    if code & 0xFF00 == 0xA700:
        return f"{node} is out of resources ({hex_code}): try again later, or retrieve fewer films at once"
    if code & 0xF000 == 0xA000:
        return (f"{node} could not match the request ({hex_code}, identifier does not match): it may not support "
                "series-level retrieve")
    if code & 0xF000 == 0xC000:
        if operation == C_MOVE:
            why = (f"often it could not open the connection to {move_aet!r} (wrong address or port in its list of "
                   "modalities, or this app was not listening), or could not convert a film")
        elif operation == C_GET:
            why = ("often it could not send a film in a form this app accepts (its log may say \"cannot "
                   "transcode\"); setting the node to C-MOVE may help")
        else:
            why = "its log says why"
        return f"{node} could not carry out the {operation} ({hex_code}, unable to process): {why}"
    return f"{node} answered the {operation} with failure {hex_code}"


def _responses(responses: Iterator[tuple[Dataset, Dataset | None]], node: DicomNode,
               calling_ae: str = "") -> Iterator[Dataset]:
    """The identifiers of the pending responses; DicomNetworkError on a failure status or a broken link."""
    for status, identifier in responses:
        code = getattr(status, "Status", None)
        if code is None:
            # Orthanc, among others, accepts an unknown caller's association and then aborts its first request.
            hint = f"; check that it lists this app's AE title {calling_ae!r} as a DICOM modality" if calling_ae else ""
            raise DicomNetworkError(f"{node} stopped answering (the association was aborted or timed out{hint})")
        if code in _PENDING:
            if identifier is not None:
                yield identifier
        elif code not in (0x0000, 0xB000):
            raise DicomNetworkError(failure_advice(code, node, "C-FIND", calling_ae=calling_ae))
