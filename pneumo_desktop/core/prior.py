"""Is this film a prior of that one? The rules a comparison must pass before two films are shown as one
patient's current and earlier film (issue 27). Qt-free; works on the loaders' metadata.

Nothing is matched by name: two patients share names. A DICOM pair must carry the same Patient ID (and the same
Issuer of Patient ID where both say one), must not disagree on sex, and the prior must be dated before the
current film. A PNG/JPEG has no patient at all: the pair is allowed when the reader picks it, and the comparison
says that nobody checked it is the same patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

UNVERIFIED_PATIENT = ("Same patient not checked: at least one of the two films carries no patient identity "
                      "(PNG/JPEG or a DICOM without Patient ID); the reader chose the pair.")
NOT_CHEST_PARTS = {"SKULL", "HEAD", "ABDOMEN", "PELVIS", "KNEE", "HAND", "FOOT", "SPINE", "LSPINE", "CSPINE"}
CHEST_MODALITIES = {"CR", "DX", "DR", "RG", "OT", "SC", "XC", ""}


@dataclass(frozen=True)
class PriorCheck:
    """``allowed``: the pair may be compared; ``reason``: why not (a sentence), or the caution that travels
    with the comparison ("" when both films are one patient's by their DICOM identity)."""

    allowed: bool
    reason: str
    verified_same_patient: bool


def _text(metadata: Mapping[str, Any], key: str) -> str:
    return str(metadata.get(key) or "").strip()


def _when(metadata: Mapping[str, Any]) -> str:
    """Study date and time as one sortable string ("" when the date is absent or not a DICOM date)."""
    date = _text(metadata, "study_date")
    if len(date) != 8 or not date.isdigit():
        return ""
    time = "".join(ch for ch in _text(metadata, "study_time") if ch.isdigit())[:6]
    return date + time.ljust(6, "0")


def _chest_problem(metadata: Mapping[str, Any], which: str) -> str:
    modality = _text(metadata, "modality").upper()
    if modality not in CHEST_MODALITIES:
        return f"The {which} film is {modality}, not a chest radiograph (CR/DX)."
    part = _text(metadata, "body_part").upper()
    if part and part in NOT_CHEST_PARTS:
        return f"The {which} film is of the {part.lower()}, not the chest."
    return ""


def check_prior(current: Mapping[str, Any], prior: Mapping[str, Any]) -> PriorCheck:
    """Whether ``prior`` may be shown as the earlier film of ``current`` (loaders' metadata dicts)."""
    for metadata, which in ((current, "current"), (prior, "prior")):
        problem = _chest_problem(metadata, which)
        if problem:
            return PriorCheck(False, problem, False)
    current_id, prior_id = _text(current, "patient_id"), _text(prior, "patient_id")
    if current_id and prior_id:
        if current_id != prior_id:
            return PriorCheck(False, "The two films belong to different patients (Patient ID differs).", False)
        issuers = _text(current, "issuer_of_patient_id"), _text(prior, "issuer_of_patient_id")
        if all(issuers) and issuers[0] != issuers[1]:
            return PriorCheck(False, "The Patient IDs come from different issuers: not the same patient.", False)
    sexes = _text(current, "sex").upper(), _text(prior, "sex").upper()
    if all(s in ("M", "F") for s in sexes) and sexes[0] != sexes[1]:
        return PriorCheck(False, "The two films disagree on the patient's sex.", False)
    current_when, prior_when = _when(current), _when(prior)
    if current_when and prior_when and prior_when >= current_when:
        later = "later than" if prior_when > current_when else "at the same time as"
        return PriorCheck(False, f"The 'prior' film is dated {later} the current one.", False)
    verified = bool(current_id and prior_id)
    return PriorCheck(True, "" if verified else UNVERIFIED_PATIENT, verified)


def prior_candidates(current: Mapping[str, Any], others: list[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Keys of the films among ``others`` that are priors of ``current`` by DICOM identity (never by name),
    newest first. PNG/JPEG films are never proposed: the reader picks them by hand."""
    if not _text(current, "patient_id"):
        return []
    found = [(key, _when(meta)) for key, meta in others
             if _text(meta, "patient_id") and check_prior(current, meta).verified_same_patient]
    return [key for key, _ in sorted(found, key=lambda pair: pair[1], reverse=True)]
