"""``pneumo-train calibrate``: refit temperature and threshold on a hospital's own labelled films.

The weights (tensors) stay as they are; the new card is a new, self-consistent card (its decision fields are
pinned by a new weights file carrying the same tensors), so the app can tell a site card from an edited one.
Images are read and scored by the app's own code (core.scoring.read_for_model / Predictor.predict_batch), DICOM or raster.
"""

from __future__ import annotations

import copy
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from pneumo_desktop.core.collect import collect_inputs
from pneumo_desktop.core.errors import PneumoError
from pneumo_desktop.core.model_card import CARD_FILENAME, WEIGHTS_FILENAME, ModelCard
from pneumo_desktop.core.predictor import Predictor
from pneumo_desktop.core.scoring import read_for_model
from pneumo_desktop.core.weights import ood_arrays, read_verified
from training.calibration import fit_temperature, threshold_for_sensitivity
from training.card_markdown import write_model_card_md
from training.data import LABELS
from training.metrics import metrics_with_ci
from training.model_io import build_model, save_model

MIN_PER_CLASS = 100


class SiteDataError(ValueError):
    """The site folder cannot support a calibration (layout, too few images)."""


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def score_site(predictor: Predictor, site: Path) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Logits and labels of every scorable film under <site>/{NORMAL,PNEUMONIA}/, and what was left out."""
    missing = [label for label in LABELS if not (site / label).is_dir()]
    if missing:
        raise SiteDataError(f"{site}: expected sub-folders {', '.join(LABELS)} (missing: {', '.join(missing)})")
    logits, labels, left_out = [], [], {"unreadable": 0, "refused_by_gate": 0}
    for label_index, label in enumerate(LABELS):
        files = collect_inputs([site / label]).files
        for start in range(0, len(files), 32):
            images = []
            for path in files[start:start + 32]:
                try:
                    images.append(read_for_model(path, predictor.size))
                except PneumoError:
                    left_out["unreadable"] += 1
            for prediction in predictor.predict_batch(images) if images else []:
                if prediction.logit is None:
                    left_out["refused_by_gate"] += 1
                    continue
                logits.append(prediction.logit)
                labels.append(label_index)
    y = np.array(labels, np.int64)
    counts = {label: int((y == i).sum()) for i, label in enumerate(LABELS)}
    short = [f"{label}: {n}" for label, n in counts.items() if n < MIN_PER_CLASS]
    if short:
        raise SiteDataError(f"{site}: at least {MIN_PER_CLASS} scorable images per class are needed for a site "
                            f"calibration; found {', '.join(short)} (after {left_out['unreadable']} unreadable "
                            f"and {left_out['refused_by_gate']} gate-refused files were left out)")
    return np.array(logits, np.float64), y, left_out


def calibrate_site(card_path: Path, site: Path, out: Path, site_name: str, target_sensitivity: float = 0.95
                   ) -> ModelCard:
    card_dir = Path(card_path).parent
    card = ModelCard.read(Path(card_path))
    tensors = read_verified(card_dir / WEIGHTS_FILENAME, card)
    model = build_model(card, tensors)
    predictor = Predictor.load(card_dir)  # the site's films are scored as the app scores them
    logits, y, left_out = score_site(predictor, Path(site))
    before_p = _sigmoid(logits / card.temperature)
    temperature = fit_temperature(logits, y)
    after_p = _sigmoid(logits / temperature)
    threshold = threshold_for_sensitivity(after_p, y, target_sensitivity)
    site_card = copy.deepcopy(card)
    site_card.output = {**card.output, "temperature": round(temperature, 5), "threshold": round(threshold, 5)}
    info: dict[str, Any] = {
        "site_name": site_name,
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_per_class": {label: int((y == i).sum()) for i, label in enumerate(LABELS)},
        "left_out": left_out,
        "target_sensitivity": target_sensitivity,
        "base_model_fingerprint": card.fingerprint,
        "base_output": {"temperature": card.temperature, "threshold": card.threshold},
        "metrics_before": metrics_with_ci(before_p, y, card.threshold),
        "metrics_after": metrics_with_ci(after_p, y, threshold),
        "note": "metrics_after are measured on the same films the temperature and threshold were fitted on",
    }
    site_card.site_calibration = info
    out = Path(out)
    clash = [name for name in (CARD_FILENAME, WEIGHTS_FILENAME) if (out / name).exists()]
    if clash:
        raise SiteDataError(f"{out} already holds {', '.join(clash)}; choose an empty folder")
    save_model(out, model, site_card, ood_arrays(tensors))
    write_model_card_md(out)
    return site_card


def main(card: Path, site: Path, out: Path, site_name: str, target_sensitivity: float) -> int:
    try:
        result = calibrate_site(card, site, out, site_name, target_sensitivity)
    except (SiteDataError, PneumoError) as exc:
        print(f"pneumo-train calibrate: {exc}", file=sys.stderr)
        return 2
    info = result.site_calibration or {}
    for key in ("metrics_before", "metrics_after"):
        m = info[key]
        print(f"{key:15s} AUC {m['roc_auc']['value']:.3f} sens {m['sensitivity']['value']:.3f} "
              f"spec {m['specificity']['value']:.3f} ECE {m['ece']['value']:.3f}")
    print(f"site card written to {Path(out) / CARD_FILENAME} (T {result.temperature:.3f}, threshold "
          f"{result.threshold:.4f}); point the app at it with PNEUMO_DESKTOP_MODELS={out}")
    return 0
