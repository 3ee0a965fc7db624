"""The scored file's own header, re-read for export: the patient, study and instance the results belong to.

The loaded image keeps only display fields, not the UIDs, so the header is read again; and the file's sha256
must still be the one that was scored, or the results would be filed against an image nobody scored.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import pydicom
from pydicom.dataset import Dataset

from pneumo_desktop.core.hashing import sha256_bytes
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.library_warnings import library_warnings_logged
from pneumo_desktop.core.loader import MAX_FILE_BYTES, sniff
from pneumo_desktop.core.regular_file import read_capped
from pneumo_desktop.dicom_out.errors import DicomExportError
from pneumo_desktop.dicom_out.valid_values import drop_invalid_values

log = logging.getLogger(__name__)

# Without these a PACS cannot file a result with the image: there is no study or instance to point at.
REQUIRED_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID")
# Type 2 in the Patient and General Study modules: present in every object we write, empty when unknown.
# highdicom reads them as attributes, so a source that omits one would otherwise stop the export.
_TYPE_2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
           "ReferringPhysicianName", "StudyID", "AccessionNumber")


@dataclass(frozen=True)
class SourceStudy:
    """``header`` has no pixel data; every name in REQUIRED_UIDS and _TYPE_2 is present in it, and every other
    value is valid for its VR (an invalid one was emptied or left out), so copying it keeps our objects valid."""

    header: Dataset

    @property
    def study_uid(self) -> str:
        return str(self.header.StudyInstanceUID)

    @property
    def sop_instance_uid(self) -> str:
        return str(self.header.SOPInstanceUID)

    @property
    def sop_class_uid(self) -> str:
        return str(self.header.SOPClassUID)

    @property
    def series_uid(self) -> str:
        return str(self.header.SeriesInstanceUID)


def read_source_study(image: LoadedImage) -> SourceStudy:
    """The header of the file ``image`` was decoded from; DicomExportError when it changed since, is not a
    DICOM, or lacks the UIDs a PACS needs."""
    name = image.path.name
    try:
        data = read_capped(image.path, MAX_FILE_BYTES)
    except OSError as exc:
        raise DicomExportError(f"the scored file can no longer be read ({exc.strerror or exc})", name) from exc
    if sha256_bytes(data) != image.file_sha256:
        raise DicomExportError("the file changed on disk after it was scored; score it again before export",
                               name)
    fmt = sniff(data, name)
    if fmt is None or fmt.kind != "dicom":
        raise DicomExportError("not a DICOM file, so there is no study to attach results to", name)
    try:
        with library_warnings_logged(name):
            header = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, force=fmt.detail != "DICM")
            # The character set is kept whatever it says: pydicom decodes the names with it, lazily.
            dropped = drop_invalid_values(header, keep=(*REQUIRED_UIDS, "SpecificCharacterSet"), type_2=_TYPE_2)
    except Exception as exc:  # library boundary: a damaged header raises many types
        raise DicomExportError(f"the DICOM header cannot be read ({type(exc).__name__})", name) from exc
    missing = [k for k in REQUIRED_UIDS if not str(header.get(k, "") or "").strip()]
    if missing:
        raise DicomExportError(f"the DICOM header lacks {', '.join(missing)}, so a PACS could not file results "
                               "with this image's study", name)
    if dropped:
        # The keywords only: the values may identify the patient, and so may the file's name.
        log.info("values invalid for their VR, not copied into the DICOM results: %s", ", ".join(dropped))
    for keyword in _TYPE_2:
        if keyword not in header:
            setattr(header, keyword, None)
    return SourceStudy(header)
