"""The three DICOM results, read back with pydicom and highdicom: same patient and study as the source, new
series and instances, the source referenced, and the values of the result."""

from __future__ import annotations

import io
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pypdf import PdfReader

from pneumo_desktop import DISCLAIMER
from pneumo_desktop.core.records import record_from
from pneumo_desktop.dicom_out import DicomResults, export_dicom_results
from pneumo_desktop.dicom_out.encapsulated_pdf import ENCAPSULATED_PDF_STORAGE
from pneumo_desktop.dicom_out.heatmap_capture import banner_rows, heatmap_pixels
from pneumo_desktop.dicom_out.structured_report import (
    ASSISTIVE,
    FINGERPRINT_PARAMETER,
    MODEL_PARAMETER,
    PROBABILITY,
    THRESHOLD,
    content_items,
    source_reference,
)
from tests.conftest import DICOM_DIR
from tests.dicom_out.conftest import Scored, score
from tests.dicom_out.sr_content import dataset_values

COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
COPIED = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyInstanceUID",
          "StudyDate", "StudyTime", "StudyID", "ReferringPhysicianName", "StudyDescription")


def export(scored: Scored, folder: Path, tiny_predictor) -> tuple[DicomResults, dict[str, pydicom.Dataset]]:
    results = export_dicom_results(folder, scored.image, scored.prediction, tiny_predictor.card)
    by_class = {}
    for path in results.paths:
        ds = pydicom.dcmread(path)
        by_class[str(ds.SOPClassUID)] = ds
    return results, by_class


@pytest.fixture(scope="module")
def written(patient_film: Scored, tiny_predictor, tmp_path_factory: pytest.TempPathFactory):
    return export(patient_film, tmp_path_factory.mktemp("dicom_results"), tiny_predictor)


def test_three_objects_filed_under_the_source_patient_and_study(written, patient_film: Scored) -> None:
    results, objects = written
    assert sorted(objects) == sorted([ENCAPSULATED_PDF_STORAGE, COMPREHENSIVE_SR, SECONDARY_CAPTURE])
    assert results.skipped == []
    source = patient_film.source
    series = {str(source.SeriesInstanceUID)}
    instances = {str(source.SOPInstanceUID)}
    for ds in objects.values():
        for keyword in COPIED:
            assert ds.get(keyword) == source.get(keyword), keyword
        assert str(ds.PatientName) == "Yamada^Taro=山田^太郎"
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        series.add(str(ds.SeriesInstanceUID))
        instances.add(str(ds.SOPInstanceUID))
    assert len(series) == 4 and len(instances) == 4  # each object in its own new series, none reusing a UID


def test_encapsulated_pdf_holds_the_report_and_references_the_film(written, patient_film: Scored) -> None:
    ds = written[1][ENCAPSULATED_PDF_STORAGE]
    pdf = bytes(ds.EncapsulatedDocument)[: ds.EncapsulatedDocumentLength]
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "PID-7731" in text and f"{100 * patient_film.prediction.probability:.1f} %" in text
    assert ds.MIMETypeOfEncapsulatedDocument == "application/pdf" and ds.Modality == "DOC"
    assert ds.BurnedInAnnotation == "YES"  # the report prints the patient's name
    (ref,) = ds.SourceInstanceSequence
    assert (ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID) == (
        patient_film.source.SOPClassUID, patient_film.source.SOPInstanceUID)


def test_structured_report_is_a_tid_1500_measurement_report_of_the_film(written, patient_film: Scored,
                                                                        tiny_predictor) -> None:
    sr = written[1][COMPREHENSIVE_SR]
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    assert sr.ConceptNameCodeSequence[0].CodeValue == "126000"  # Imaging Measurement Report
    report = hd.sr.ComprehensiveSR.from_dataset(sr).content  # highdicom reads it back as TID 1500
    assert isinstance(report, hd.sr.MeasurementReport)
    (group,) = report.get_image_measurement_groups()
    card, prediction = tiny_predictor.card, patient_film.prediction
    (probability,) = group.get_measurements(name=PROBABILITY)
    assert probability.value == pytest.approx(prediction.probability)
    (threshold,) = group.get_measurements(name=THRESHOLD)
    assert threshold.value == pytest.approx(prediction.threshold)
    film = (str(patient_film.source.SOPClassUID), str(patient_film.source.SOPInstanceUID))
    assert [(i.referenced_sop_class_uid, i.referenced_sop_instance_uid) for i in group.source_images] == [film]
    assert source_reference(sr) == film
    library = [item for item in content_items(sr) if item.ValueType == "IMAGE"
               and item.ConceptNameCodeSequence[0].CodeMeaning == "Source"]
    (entry,) = library
    ref = entry.ReferencedSOPSequence[0]
    assert (ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID) == film
    descriptors = dataset_values(entry)
    assert descriptors["Pixel Data Rows"] == [patient_film.image.shape[0]]
    assert descriptors["Patient Orientation Row"] == ["L"]  # the film has an orientation: it is described

    values = dataset_values(sr)
    assert values["Algorithm Name"][0] == card.name and values["Algorithm Version"][0] == card.version
    # TID 4019 on the measurement names the model as the app shows it and its fingerprint.
    algorithm_of_probability = dataset_values(next(
        item for item in content_items(sr) if item.ValueType == "NUM"
        and item.ConceptNameCodeSequence[0].CodeMeaning == "Probability of pneumonia"))
    assert algorithm_of_probability["Algorithm Parameters"] == [f"{MODEL_PARAMETER}{card.display_name}",
                                                                f"{FINGERPRINT_PARAMETER}{card.fingerprint}"]
    assert values["Label (PNEUMONIA when probability >= threshold)"] == [prediction.label]
    record = record_from(str(patient_film.path), prediction, patient_film.image,
                         population=card.intended_population)
    assert record["warnings"], "the film is outside the tiny model's ages: there must be a warning to carry"
    assert values["Warning"] == record["warnings"]
    (notice,) = values["Intended use"]
    assert ASSISTIVE in notice and DISCLAIMER in notice
    (evidence,) = sr.CurrentRequestedProcedureEvidenceSequence
    assert evidence.StudyInstanceUID == patient_film.source.StudyInstanceUID
    ref = evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
    assert ref.ReferencedSOPInstanceUID == patient_film.source.SOPInstanceUID
    assert (sr.CompletionFlag, sr.VerificationFlag, sr.PreliminaryFlag) == ("COMPLETE", "UNVERIFIED", "PRELIMINARY")
    assert sr.CodingSchemeIdentificationSequence[0].CodingSchemeDesignator == "99PNEUMODSK"


def test_image_library_leaves_out_what_the_film_lacks(tiny_predictor, tmp_path: Path) -> None:
    """highdicom's own library needs Patient Orientation and Imager Pixel Spacing; this film has neither."""
    scored = score(DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm", tiny_predictor)
    assert "PatientOrientation" not in scored.source and "ImagerPixelSpacing" not in scored.source
    sr = export(scored, tmp_path, tiny_predictor)[1][COMPREHENSIVE_SR]
    (entry,) = [item for item in content_items(sr) if item.ValueType == "IMAGE"
                and item.ConceptNameCodeSequence[0].CodeMeaning == "Source"]
    descriptors = dataset_values(entry)
    assert descriptors["Modality"] == ["DX"] and descriptors["Pixel Data Columns"] == [1024.0]
    assert "Patient Orientation Row" not in descriptors and "Horizontal Pixel Spacing" not in descriptors


def test_heatmap_capture_is_the_report_overlay_labelled_derived_not_for_diagnosis(written,
                                                                                 patient_film: Scored) -> None:
    sc = written[1][SECONDARY_CAPTURE]
    assert list(sc.ImageType)[:2] == ["DERIVED", "SECONDARY"]
    assert "NOT FOR DIAGNOSIS" in sc.SeriesDescription and "NOT FOR DIAGNOSIS" in sc.DerivationDescription
    assert sc.BurnedInAnnotation == "NO"  # the heatmap names no one; the synthetic film had no label either
    assert sc.ConversionType == "WSD" and list(sc.PatientOrientation) == ["L", "F"]
    expected = heatmap_pixels(patient_film.image, patient_film.prediction)
    assert expected is not None
    banner = banner_rows(sc.Columns)
    assert sc.PhotometricInterpretation == "RGB"
    assert (sc.Rows - banner, sc.Columns) == patient_film.image.shape
    assert np.array_equal(sc.pixel_array[banner:], expected)
    strip = sc.pixel_array[:banner]
    assert strip.max() > 128 and np.mean(strip == 0) > 0.5  # light text on black: the warning is drawn
    (ref,) = sc.SourceImageSequence
    assert ref.ReferencedSOPInstanceUID == patient_film.source.SOPInstanceUID


def test_japanese_header_keeps_its_patient_through_every_object(japanese_film: Scored, tiny_predictor,
                                                                tmp_path: Path) -> None:
    _, objects = export(japanese_film, tmp_path, tiny_predictor)
    assert len(objects) == 3
    for ds in objects.values():
        assert ds.PatientName == japanese_film.source.PatientName
        assert ds.StudyInstanceUID == japanese_film.source.StudyInstanceUID


def test_unscored_film_gets_the_reason_and_no_heatmap_capture(patient_film: Scored, tiny_predictor,
                                                              tmp_path: Path) -> None:
    from pneumo_desktop.core.prediction import Prediction, Rejection

    rejected = Prediction(None, None, 0.5, "tiny 0.0.0", tiny_predictor.card.fingerprint, 1.0,
                          rejected=Rejection("not_chest", "This does not look like a chest X-ray."))
    results = export_dicom_results(tmp_path, patient_film.image, rejected, tiny_predictor.card)
    assert len(results.paths) == 2 and "not scored" in results.skipped[0]
    sr = next(pydicom.dcmread(p) for p in results.paths if p.name.endswith("_sr.dcm"))
    values = dataset_values(sr)
    assert values["Not scored"] == ["This does not look like a chest X-ray. (code not_chest)"]
    assert "Probability of pneumonia" not in values and "Label (PNEUMONIA when probability >= threshold)" \
        not in values
    assert values["Decision threshold"] == [0.5]  # the model and its threshold are still named
    assert FINGERPRINT_PARAMETER + tiny_predictor.card.fingerprint in values["Algorithm Parameters"]


def test_a_reader_oriented_result_is_captured_and_reported_as_it_was_scored(patient_film: Scored, tiny_predictor,
                                                                            tmp_path: Path) -> None:
    """Issue 24 A3: after Score as Displayed the capture shows the film turned as scored (no longer in the
    source's patient orientation), says so, and the SR's warnings name the reader's orientation."""
    from pneumo_desktop.core.orientation import orient

    image = patient_film.image.sharing_pixels()
    prediction = tiny_predictor.predict(image, heatmap=True, displayed=3)  # turned 90° clockwise
    results = export_dicom_results(tmp_path, image, prediction, tiny_predictor.card)
    objects = {str(ds.SOPClassUID): ds for ds in (pydicom.dcmread(p) for p in results.paths)}
    if prediction.rejected is None:
        sc = objects[SECONDARY_CAPTURE]
        banner = banner_rows(sc.Columns)
        assert (sc.Rows - banner, sc.Columns) == orient(image.pixels, 3).shape != image.shape
        assert list(sc.PatientOrientation) == [] and "rotated 90° clockwise" in sc.ImageComments
        assert np.array_equal(sc.pixel_array[banner:], heatmap_pixels(image, prediction))
    texts = [str(v) for values in dataset_values(objects[COMPREHENSIVE_SR]).values() for v in values]
    assert any("rotated 90° clockwise" in text for text in texts), texts
