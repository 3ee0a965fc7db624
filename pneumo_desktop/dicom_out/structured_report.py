"""The result as a Comprehensive SR built with highdicom: probability, label, threshold, model name, version
and fingerprint, every warning, the intended-use notice, and the source image it was computed from.

Standard codes where DICOM has one (Algorithm Name and Version, Source image, Device observer); the values
that are this model's own (probability of pneumonia, threshold, label, fingerprint) use a private coding
scheme declared in the object, so no reader mistakes them for a standard template's meaning. The document
is PRELIMINARY and UNVERIFIED: no clinician has signed it.
"""

from __future__ import annotations

from collections.abc import Sequence

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

SCHEME = "99PNEUMODSK"
SCHEME_NAME = "pneumo_desktop result codes"
TITLE = Code("PDR", SCHEME, "Assistive pneumonia probability (not diagnostic)")
PROBABILITY = Code("P", SCHEME, "Probability of pneumonia")
THRESHOLD = Code("T", SCHEME, "Decision threshold")
LABEL = Code("L", SCHEME, "Label (PNEUMONIA when probability >= threshold)")
NOT_SCORED = Code("NS", SCHEME, "Not scored")
FINGERPRINT = Code("FP", SCHEME, "Model fingerprint (sha256 of the weights file)")
MODEL = Code("M", SCHEME, "Model as named in the app")
WARNING = Code("W", SCHEME, "Warning")
INTENDED_USE = Code("IU", SCHEME, "Intended use")
NO_UNITS = Code("1", "UCUM", "no units")
ASSISTIVE = "Assistive, not diagnostic."
_LO_MAX = 64  # Device Observer Model Name is LO; TEXT items have no such limit


def result_items(prediction: Prediction, card: ModelCard, warnings: Sequence[str]) -> list[hd.sr.ContentItem]:
    """The content under the document's root, in reading order."""
    contains = hd.sr.RelationshipTypeValues.CONTAINS
    items: list[hd.sr.ContentItem] = []
    if prediction.probability is not None and prediction.rejected is None:
        items.append(hd.sr.NumContentItem(PROBABILITY, float(prediction.probability), NO_UNITS,
                                          relationship_type=contains))
        items.append(hd.sr.TextContentItem(LABEL, str(prediction.label), relationship_type=contains))
    else:
        reason = prediction.rejected.reason if prediction.rejected is not None else "the image was not scored"
        code = f" (code {prediction.rejected.code})" if prediction.rejected is not None else ""
        items.append(hd.sr.TextContentItem(NOT_SCORED, f"{reason}{code}", relationship_type=contains))
    items.append(hd.sr.NumContentItem(THRESHOLD, float(prediction.threshold), NO_UNITS, relationship_type=contains))
    items += [
        hd.sr.TextContentItem(codes.DCM.AlgorithmName, card.name, relationship_type=contains),
        hd.sr.TextContentItem(codes.DCM.AlgorithmVersion, card.version, relationship_type=contains),
        hd.sr.TextContentItem(MODEL, card.display_name, relationship_type=contains),
        hd.sr.TextContentItem(FINGERPRINT, prediction.model_sha256 or card.fingerprint,
                              relationship_type=contains),
    ]
    items += [hd.sr.TextContentItem(WARNING, text, relationship_type=contains) for text in warnings]
    items.append(hd.sr.TextContentItem(INTENDED_USE, f"{ASSISTIVE} {DISCLAIMER}", relationship_type=contains))
    return items


def build_structured_report(prediction: Prediction, card: ModelCard, warnings: Sequence[str], source: SourceStudy,
                            ids: NewSeries) -> hd.sr.ComprehensiveSR:
    contains = hd.sr.RelationshipTypeValues.CONTAINS
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=device_uid(card), name="pneumo_desktop", manufacturer_name=MANUFACTURER,
            model_name=card.display_name[:_LO_MAX],
        ),
    )
    image = hd.sr.ImageContentItem(codes.DCM.SourceImage, source.sop_class_uid, source.sop_instance_uid,
                                   relationship_type=contains)
    root = hd.sr.ContainerContentItem(TITLE)
    root.ContentSequence = hd.sr.ContentSequence(
        [*observer, image, *result_items(prediction, card, warnings)], is_root=False)
    return hd.sr.ComprehensiveSR(
        evidence=[source.header],
        content=root,
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


def device_uid(card: ModelCard) -> str:
    """The observer UID of this model: the same on every machine, so a PACS can group results by model."""
    return str(generate_uid(entropy_srcs=[card.fingerprint or card.display_name]))


def source_reference(dataset: Dataset) -> tuple[str, str]:
    """(SOP class, SOP instance) of the image the SR says it was computed from (for tests and checks)."""
    for item in dataset.ContentSequence:
        if item.ValueType == "IMAGE":
            ref = item.ReferencedSOPSequence[0]
            return str(ref.ReferencedSOPClassUID), str(ref.ReferencedSOPInstanceUID)
    raise ValueError("the SR references no image")
