"""The PDF report wrapped as a DICOM Encapsulated PDF (PS3.3 A.45.1) in a new series of the source's study.

highdicom has no class for this IOD, but its SOPClass base writes the SOP Common, Patient, General Study and
General Equipment modules the same way as for the SR and the capture; only the Encapsulated Document Series
and Encapsulated Document modules are filled here.
"""

from __future__ import annotations

import datetime

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from pneumo_desktop import __version__
from pneumo_desktop.dicom_out.new_series import CHARACTER_SET, MANUFACTURER, NewSeries
from pneumo_desktop.dicom_out.source_study import SourceStudy

ENCAPSULATED_PDF_STORAGE = "1.2.840.10008.5.1.4.1.1.104.1"
DOCUMENT_TITLE = "Assistive pneumonia probability report (not diagnostic)"


def build_encapsulated_pdf(pdf: bytes, source: SourceStudy, ids: NewSeries) -> Dataset:
    if not pdf.startswith(b"%PDF-"):
        raise ValueError("the report bytes are not a PDF")
    now = datetime.datetime.now()
    header = source.header
    ds = hd.SOPClass(
        study_instance_uid=source.study_uid,
        series_instance_uid=ids.series_uid,
        series_number=ids.number,
        sop_instance_uid=ids.sop_instance_uid,
        sop_class_uid=ENCAPSULATED_PDF_STORAGE,
        instance_number=1,
        modality="DOC",
        manufacturer=MANUFACTURER,
        transfer_syntax_uid=ExplicitVRLittleEndian,
        patient_id=header.PatientID,
        patient_name=header.PatientName,
        patient_birth_date=header.PatientBirthDate,
        patient_sex=header.PatientSex,
        accession_number=header.AccessionNumber,
        study_id=header.StudyID,
        study_date=header.StudyDate,
        study_time=header.StudyTime,
        referring_physician_name=header.ReferringPhysicianName,
        series_description=ids.description,
        software_versions=__version__,
        content_date=now.date(),
        content_time=now.time(),
        specific_character_set=CHARACTER_SET,
    )
    ds.copy_patient_and_study_information(header)
    # SC Equipment module (mandatory in this IOD): made by a workstation, not scanned from paper.
    ds.ConversionType = "WSD"
    ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    # The report prints the patient's name and ID, and this attribute says so to de-identification tools.
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = DOCUMENT_TITLE
    ds.ConceptNameCodeSequence = []
    ds.SourceInstanceSequence = [_reference(source)]
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    # The length is stated because the element is padded to an even length and readers must not keep the pad.
    ds.EncapsulatedDocumentLength = len(pdf)
    ds.EncapsulatedDocument = pdf + b"\x00" * (len(pdf) % 2)
    return ds


def _reference(source: SourceStudy) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = source.sop_class_uid
    item.ReferencedSOPInstanceUID = source.sop_instance_uid
    return item
