"""Query/retrieve from a configured PACS: C-FIND studies by patient id, name, accession or date, and C-GET the
chest radiograph series (CR or DX) of one study into a folder, where they are scored like a batch.

C-GET rather than C-MOVE: the films come back on the association this app opened, so the PACS needs no route
to a listener and nothing listens here.
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
)

from pneumo_desktop.core.atomic import atomic_write_bytes
from pneumo_desktop.dicom_net.association import DEFAULT_CALLING_AE, DEFAULT_TIMEOUT_S, associated, client_ae
from pneumo_desktop.dicom_net.listener import TRANSFER_SYNTAXES
from pneumo_desktop.dicom_net.nodes import DicomNetworkError, DicomNode
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


def retrieve_chest_films(node: DicomNode, study_uid: str, dest: Path, *, calling_ae: str = DEFAULT_CALLING_AE,
                         timeout_s: float = DEFAULT_TIMEOUT_S,
                         should_stop: Callable[[], bool] = lambda: False) -> list[Path]:
    """C-GET the study's chest series into ``dest``; DicomNetworkError when it has none or the PACS fails."""
    series = chest_series(node, study_uid, calling_ae=calling_ae, timeout_s=timeout_s, should_stop=should_stop)
    if not series:
        raise DicomNetworkError(f"the study on {node} has no CR or DX series: no chest radiograph to score")
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
        ae.add_requested_context(sop_class, TRANSFER_SYNTAXES)
    roles = [build_role(sop_class, scp_role=True) for sop_class in _FILM_CLASSES]
    with associated(ae, node, should_stop=should_stop, ext_neg=roles,
                    evt_handlers=[(evt.EVT_C_STORE, store)]) as assoc:
        for series_uid in series:
            if should_stop():
                break
            query = Dataset()
            query.QueryRetrieveLevel = "SERIES"
            query.StudyInstanceUID, query.SeriesInstanceUID = study_uid, series_uid
            for _ in _responses(assoc.send_c_get(query, StudyRootQueryRetrieveInformationModelGet), node,
                                calling_ae):
                pass
    return received


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
            raise DicomNetworkError(f"{node} answered with failure status 0x{code:04X}")
