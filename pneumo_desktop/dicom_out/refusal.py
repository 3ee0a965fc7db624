"""Whether a scored image may get DICOM results at all, decided before any work. Light on purpose: the window asks
after every result to enable its Export/Send actions, on the GUI thread, so nothing here imports pydicom or
highdicom (importing highdicom took 0.4 s)."""

from __future__ import annotations

from pneumo_desktop.core.image import LoadedImage


def refusal(image: LoadedImage, *, hide_phi: bool) -> str | None:
    """Why ``image`` gets no DICOM results, as a sentence, or None when it may (checked before any work)."""
    if hide_phi:
        return ("DICOM results are not written with hide-PHI on: a DICOM object must carry the patient's "
                "identity for a PACS to file it with the patient's study (turn hide-PHI off to export)")
    if image.kind != "dicom":
        return (f"{image.path.name} is not a DICOM file: DICOM results need the patient and study of a DICOM "
                "image to attach to (the PDF report can still be written)")
    return None
