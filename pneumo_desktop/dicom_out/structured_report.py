"""The result as a TID 1500 Measurement Report (PS3.16), the template OHIF, Weasis and dcmqi read measurements
from, in a Comprehensive SR built with highdicom.

The tree, under the root "Imaging Measurement Report":

- the observation context (the device: this model) and the procedure (a plain chest X-ray);
- the image library: one entry for the scored film;
- one measurement group (TID 1501) for the scored film (finding site: chest), with the algorithm identification
  (TID 4019: name, version, and the model's display name and fingerprint as parameters), the probability of
  pneumonia and the decision threshold as numeric measurements (TID 300);
- "Qualitative Evaluations" (TID 1500 rows 12-14): the label as a code, then as text the reason when the film
  was not scored, every warning and the intended-use notice, so a reader that shows the measurement also has
  the words that qualify it.

Standard codes where DICOM has one; the values that are this model's own (probability of pneumonia, threshold,
label) use a private coding scheme declared in the object, so no reader mistakes them for a standard meaning.
The document is PRELIMINARY and UNVERIFIED: no clinician has signed it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import highdicom as hd
from highdicom.coding_schemes import CodingSchemeIdentificationItem
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import generate_uid

from pneumo_desktop import DISCLAIMER, __version__
from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.dicom_out.new_series import CHARACTER_SET, MANUFACTURER, NewSeries
from pneumo_desktop.dicom_out.source_study import SourceStudy

log = logging.getLogger(__name__)

SCHEME = "99PNEUMODSK"
SCHEME_NAME = "pneumo_desktop result codes"
PROBABILITY = Code("P", SCHEME, "Probability of pneumonia")
THRESHOLD = Code("T", SCHEME, "Decision threshold")
LABEL = Code("L", SCHEME, "Label (PNEUMONIA when probability >= threshold)")
NOT_SCORED = Code("NS", SCHEME, "Not scored")
WARNING = Code("W", SCHEME, "Warning")
INTENDED_USE = Code("IU", SCHEME, "Intended use")
NO_UNITS = Code("1", "UCUM", "no units")
# The procedure and the site: CID 100 has no radiograph of any kind, and validators check its list (PixelMed's
# 2022 list has no "XR unspecified body region"), so the generic procedure, and the site says chest.
PROCEDURE = codes.cid100.ImagingProcedure
CHEST = codes.SCT.Chest
QUALITATIVE_EVALUATIONS = Code("C0034375", "UMLS", "Qualitative Evaluations")
PIXELS = Code("{pixels}", "UCUM", "Pixels")
LIBRARY_SOURCE = Code("260753009", "SCT", "Source")
_MODALITIES = {str(code.value): code for code in (getattr(codes.cid29, name) for name in codes.cid29.dir())}
TRACKING_ID = "Pneumonia probability (assistive)"
FINGERPRINT_PARAMETER = "Model fingerprint (sha256 of the weights file): "
MODEL_PARAMETER = "Model as named in the app: "
ASSISTIVE = "Assistive, not diagnostic."
_LO_MAX = 64  # Device Observer Model Name is LO; TEXT items have no such limit


def algorithm(prediction: Prediction, card: ModelCard) -> hd.sr.AlgorithmIdentification:
    """TID 4019: the model's name and version, and the display name and fingerprint a site audits."""
    return hd.sr.AlgorithmIdentification(
        name=card.name, version=card.version,
        parameters=[f"{MODEL_PARAMETER}{card.display_name}",
                    f"{FINGERPRINT_PARAMETER}{prediction.model_sha256 or card.fingerprint}"],
    )


def measurement_group(prediction: Prediction, card: ModelCard, source: SourceStudy) -> \
        hd.sr.MeasurementsAndQualitativeEvaluations:
    """TID 1501 for the scored film: the probability (with its algorithm) and the threshold (TID 300); only the
    threshold when the film was not scored (the reason is then a text item of the report)."""
    measurements: list[hd.sr.Measurement] = []
    if prediction.probability is not None and _scored(prediction):
        measurements.append(hd.sr.Measurement(PROBABILITY, float(prediction.probability), NO_UNITS,
                                              algorithm_id=algorithm(prediction, card)))
    measurements.append(hd.sr.Measurement(THRESHOLD, float(prediction.threshold), NO_UNITS))
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=TRACKING_ID),
        algorithm_id=algorithm(prediction, card),
        finding_sites=[hd.sr.FindingSite(CHEST)],
        measurements=measurements,
        source_images=[hd.sr.SourceImageForMeasurementGroup(source.sop_class_uid, source.sop_instance_uid)],
    )


def evaluation_items(prediction: Prediction, warnings: Sequence[str]) -> list[hd.sr.ContentItem]:
    """The label, and the words that qualify the result, in reading order: why it was not scored, every warning,
    the intended use (TID 1500 rows 13 and 14: CODE and TEXT items of any concept)."""
    contains = hd.sr.RelationshipTypeValues.CONTAINS
    items: list[hd.sr.ContentItem] = []
    if _scored(prediction):
        label = str(prediction.label)
        items.append(hd.sr.CodeContentItem(LABEL, Code(label, SCHEME, label), relationship_type=contains))
    else:
        reason = prediction.rejected.reason if prediction.rejected is not None else "the image was not scored"
        code = f" (code {prediction.rejected.code})" if prediction.rejected is not None else ""
        items.append(hd.sr.TextContentItem(NOT_SCORED, f"{reason}{code}", relationship_type=contains))
    items += [hd.sr.TextContentItem(WARNING, text, relationship_type=contains) for text in warnings]
    items.append(hd.sr.TextContentItem(INTENDED_USE, f"{ASSISTIVE} {DISCLAIMER}", relationship_type=contains))
    return items


def image_library(header: Dataset) -> hd.sr.ContainerContentItem:
    """TID 1600 with the one film: built here because highdicom's own needs Patient Orientation and Imager Pixel
    Spacing for every radiograph, which many chest films lack; each descriptor is written only when the film's
    value is valid (TID 1602/1603 make them all optional)."""
    acquisition = hd.sr.RelationshipTypeValues.HAS_ACQ_CONTEXT
    descriptors: list[hd.sr.ContentItem] = []
    modality = _MODALITIES.get(str(header.get("Modality", "")))
    if modality is not None:
        descriptors.append(hd.sr.CodeContentItem(codes.DCM.Modality, modality, relationship_type=acquisition))
    for name, keyword in ((codes.DCM.PixelDataRows, "Rows"), (codes.DCM.PixelDataColumns, "Columns")):
        if isinstance(header.get(keyword), int) and header.get(keyword) > 0:
            descriptors.append(hd.sr.NumContentItem(name, int(header.get(keyword)), PIXELS,
                                                    relationship_type=acquisition))
    orientation = header.get("PatientOrientation")
    if orientation is not None and len(orientation) == 2 and all(str(v).strip() for v in orientation):
        descriptors += [
            hd.sr.TextContentItem(codes.DCM.PatientOrientationRow, str(orientation[0]), relationship_type=acquisition),
            hd.sr.TextContentItem(codes.DCM.PatientOrientationColumn, str(orientation[1]),
                                  relationship_type=acquisition),
        ]
    spacing = _spacing(header)
    if spacing is not None:
        descriptors += [
            hd.sr.NumContentItem(codes.DCM.HorizontalPixelSpacing, spacing[1], codes.UCUM.Millimeter,
                                 relationship_type=acquisition),
            hd.sr.NumContentItem(codes.DCM.VerticalPixelSpacing, spacing[0], codes.UCUM.Millimeter,
                                 relationship_type=acquisition),
        ]
    contains = hd.sr.RelationshipTypeValues.CONTAINS
    image = hd.sr.ImageContentItem(LIBRARY_SOURCE, str(header.SOPClassUID), str(header.SOPInstanceUID),
                                   relationship_type=contains)
    image.ContentSequence = hd.sr.ContentSequence(descriptors, is_root=False)
    group = hd.sr.ContainerContentItem(codes.DCM.ImageLibraryGroup, relationship_type=contains)
    group.ContentSequence = hd.sr.ContentSequence([image], is_root=False)
    library = hd.sr.ContainerContentItem(codes.DCM.ImageLibrary, relationship_type=contains)
    library.ContentSequence = hd.sr.ContentSequence([group], is_root=False)
    return library


def _spacing(header: Dataset) -> tuple[float, float] | None:
    """(row, column) spacing in mm from Imager Pixel Spacing, when it is two positive numbers (RG1 has zeros)."""
    value = header.get("ImagerPixelSpacing")
    try:
        row, column = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return (row, column) if row > 0 and column > 0 else None


def measurement_report(prediction: Prediction, card: ModelCard, warnings: Sequence[str],
                       source: SourceStudy) -> hd.sr.MeasurementReport:
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=device_uid(card), name="pneumo_desktop", manufacturer_name=MANUFACTURER,
            model_name=card.display_name[:_LO_MAX],
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=PROCEDURE,
        imaging_measurements=[measurement_group(prediction, card, source)],
    )
    content = report[0].ContentSequence
    # TID 1500 row 5, before the Imaging Measurements (row 6).
    content.insert(len(content) - 1, image_library(source.header))
    evaluations = hd.sr.ContainerContentItem(QUALITATIVE_EVALUATIONS,
                                             relationship_type=hd.sr.RelationshipTypeValues.CONTAINS)
    evaluations.ContentSequence = hd.sr.ContentSequence(evaluation_items(prediction, warnings), is_root=False)
    report[0].ContentSequence.append(evaluations)
    return report


def build_structured_report(prediction: Prediction, card: ModelCard, warnings: Sequence[str], source: SourceStudy,
                            ids: NewSeries) -> hd.sr.ComprehensiveSR:
    return hd.sr.ComprehensiveSR(
        evidence=[source.header],
        content=measurement_report(prediction, card, warnings, source),
        series_instance_uid=ids.series_uid,
        series_number=ids.number,
        sop_instance_uid=ids.sop_instance_uid,
        instance_number=1,
        manufacturer=MANUFACTURER,
        is_complete=True,
        is_final=False,
        is_verified=False,
        series_description=ids.description,
        software_versions=__version__,
        specific_character_set=CHARACTER_SET,
        coding_schemes=[CodingSchemeIdentificationItem(SCHEME, SCHEME_NAME, responsible_organization=MANUFACTURER)],
    )


def _scored(prediction: Prediction) -> bool:
    return prediction.probability is not None and prediction.rejected is None


def device_uid(card: ModelCard) -> str:
    """The observer UID of this model: the same on every machine, so a PACS can group results by model."""
    return str(generate_uid(entropy_srcs=[card.fingerprint or card.display_name]))


def content_items(dataset: Dataset) -> Iterator[Dataset]:
    """Every content item of an SR, depth first (for tests and checks)."""
    for item in dataset.get("ContentSequence", []):
        yield item
        yield from content_items(item)


def source_reference(dataset: Dataset) -> tuple[str, str]:
    """(SOP class, SOP instance) of the image the SR's measurements were computed from (for tests and checks)."""
    for item in content_items(dataset):
        if item.ValueType == "IMAGE" and item.RelationshipType == "CONTAINS" \
                and item.ConceptNameCodeSequence[0].CodeValue != LIBRARY_SOURCE.value:  # not the library's entry
            ref = item.ReferencedSOPSequence[0]
            return str(ref.ReferencedSOPClassUID), str(ref.ReferencedSOPInstanceUID)
    raise ValueError("the SR references no image")
