"""pneumo_desktop: an assistive chest X-ray viewer with a calibrated pneumonia probability."""

__version__ = "0.2.0"
APP_NAME = "pneumo_desktop"
DISCLAIMER = (
    "pneumo_desktop assists a qualified clinician; it does not diagnose. The probability comes from a "
    "model trained on paediatric (age 1-5) frontal chest X-rays from one hospital and may be wrong, "
    "especially for adults, lateral views or other sites. Always read the image yourself."
)
