"""The image with its heatmap burned in, as a Secondary Capture in a new series of the source's study,
labelled as derived and not for diagnosis in every place a PACS viewer shows: a banner in the pixels, Image
Type, Series and Derivation Description, and the Image Comments."""

from __future__ import annotations

import highdicom as hd
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import ExplicitVRLittleEndian

from pneumo_desktop import __version__
from pneumo_desktop.core.heatmap_render import blend, score_strength, scored_view
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.orientation import describe
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.dicom_out.new_series import CHARACTER_SET, MANUFACTURER, NewSeries
from pneumo_desktop.dicom_out.source_study import SourceStudy

DERIVATION = ("Grad-CAM heatmap of an assistive pneumonia model burned into the image as displayed "
              "(default window). NOT FOR DIAGNOSIS.")


BANNER_TEXT = "NOT FOR DIAGNOSIS - heatmap of an assistive model (pneumo_desktop)"


def heatmap_pixels(image: LoadedImage, prediction: Prediction) -> np.ndarray | None:
    """RGB uint8 (rows, cols, 3) exactly as the PDF report draws it (turned as the reader scored it, for Score
    as Displayed), or None when there is no heatmap."""
    pixels, heatmap = scored_view(image, prediction)
    if heatmap is None:
        return None
    return blend(pixels, heatmap * score_strength(prediction.probability, prediction.threshold))


def banner_rows(columns: int) -> int:
    return max(16, columns // 28)


def with_banner(pixels: np.ndarray) -> np.ndarray:
    """A black strip with the warning above the image, not over it: a thumbnail or a viewer that hides the
    series description still says what this is, and no anatomy is covered."""
    rows = banner_rows(pixels.shape[1])
    strip = Image.new("RGB", (pixels.shape[1], rows), (0, 0, 0))
    draw = ImageDraw.Draw(strip)
    size = float(rows) * 0.6
    font = ImageFont.load_default(size=size)
    while size > 6 and draw.textlength(BANNER_TEXT, font=font) > pixels.shape[1] - rows:
        size *= 0.85  # a narrow film: smaller text rather than a cut-off warning
        font = ImageFont.load_default(size=size)
    draw.text((rows // 2, rows // 2), BANNER_TEXT, fill=(255, 255, 255), font=font, anchor="lm")
    return np.concatenate([np.asarray(strip, dtype=np.uint8), pixels], axis=0)


def build_heatmap_capture(image: LoadedImage, prediction: Prediction, source: SourceStudy,
                          ids: NewSeries) -> hd.sc.SCImage | None:
    overlay = heatmap_pixels(image, prediction)
    if overlay is None:
        return None
    pixels = with_banner(overlay)
    header = source.header
    capture = hd.sc.SCImage.from_ref_dataset(
        ref_dataset=header,
        pixel_array=pixels,
        photometric_interpretation=hd.PhotometricInterpretationValues.RGB,
        bits_allocated=8,
        coordinate_system=hd.CoordinateSystemNames.PATIENT,
        series_instance_uid=ids.series_uid,
        series_number=ids.number,
        sop_instance_uid=ids.sop_instance_uid,
        instance_number=1,
        manufacturer=MANUFACTURER,
        # highdicom insists on an orientation; the source's is right (same pixel grid), and when it has none
        # the attribute is left empty below (type 2C: allowed), since a guess could flip left and right.
        patient_orientation=_orientation(header) or ("L", "F"),
        transfer_syntax_uid=ExplicitVRLittleEndian,
        series_description=ids.description,
        software_versions=__version__,
        specific_character_set=CHARACTER_SET,
    )
    capture.copy_patient_and_study_information(header)
    if _orientation(header) is None or prediction.displayed:  # a turned capture no longer has the source's
        capture.PatientOrientation = []
    # Type 2C, and validators cannot tell that a chest is not a paired structure: the source's value or empty.
    capture.Laterality = str(header.get("Laterality") or header.get("ImageLaterality") or "")
    capture.ConversionType = "WSD"  # made on a workstation, not digitised from film
    capture.ImageType = ["DERIVED", "SECONDARY", "HEATMAP"]
    # Burned In Annotation answers "do the pixels identify the patient" (PS3.3 C.7.6.1, General Image), not
    # "was something drawn on them": the heatmap names no one, so the source's own answer carries over.
    capture.BurnedInAnnotation = "YES" if str(header.get("BurnedInAnnotation", "")).upper() == "YES" else "NO"
    capture.LossyImageCompression = "01" if str(header.get("LossyImageCompression", "")) == "01" else "00"
    capture.ImageComments = "NOT FOR DIAGNOSIS: heatmap of an assistive model, derived from the original image."
    if prediction.displayed:
        capture.ImageComments += f" Shown as the reader scored it: {describe(prediction.displayed)}."
    capture.DerivationDescription = DERIVATION
    capture.SourceImageSequence = [_source_item(source)]
    return capture


def _orientation(header: Dataset) -> tuple[str, str] | None:
    value = header.get("PatientOrientation")
    if value is not None and len(value) == 2 and all(str(v) for v in value):
        return (str(value[0]), str(value[1]))
    return None


def _code_item(code: Code) -> Dataset:
    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme_designator
    item.CodeMeaning = code.meaning
    return item


def _source_item(source: SourceStudy) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = source.sop_class_uid
    item.ReferencedSOPInstanceUID = source.sop_instance_uid
    item.PurposeOfReferenceCodeSequence = [_code_item(codes.DCM.SourceImageForImageProcessingOperation)]
    return item
