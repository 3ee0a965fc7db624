"""How far the model's probability moves between two films of one chest taken minutes apart: the threshold a
difference between a film and its prior must pass before it is called higher or lower (core/comparison.py).

A repeat film differs from the first by exposure, a few degrees of rotation, a slightly different crop,
compression, collimation borders, a burned-in marker and the console's edge enhancement. Each validation
original (the classifier's own held-out validation patients, films it never trained on) is scored as it is and
through each such variation, separately (one variation at a time); the spread of a film is its largest
|p(variant) - p(original)|. The rule's figure is the 95th percentile of that spread over films.

Usage: python -m training.repeat_spread [--out models/repeat_spread.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from training import shifted

REPO = Path(__file__).resolve().parents[1]
# Milder than the held-out corruptions: what two films of one sitting differ by.
REPEAT_VARIANTS: dict[str, shifted.Variant] = {
    "gamma0.8": shifted.gamma(0.8),
    "gamma1.25": shifted.gamma(1.25),
    "rot-3": shifted.rotate(-3.0),
    "rot+3": shifted.rotate(3.0),
    "crop5": lambda x, rng: shifted.crop_tighter(x, rng, 0.05),
    "jpeg75": shifted.jpeg(75),
    **shifted.EVERYDAY,
}
QUANTILE = 0.95


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kermany", type=Path)
    parser.add_argument("--out", type=Path, default=REPO / "models" / "repeat_spread.json")
    args = parser.parse_args(argv)
    import hashlib

    from pneumo_desktop.core.loader import load_image
    from pneumo_desktop.core.predictor import Predictor
    from pneumo_desktop.core.preprocess import preprocess
    from training.data import patient_split, read_items
    from training.data_root import KERMANY_MISSING, kermany_dir

    kermany = args.kermany or kermany_dir()
    if kermany is None:
        print(KERMANY_MISSING, file=sys.stderr)
        return 2
    predictor = Predictor.load(REPO / "models")
    config = json.loads((REPO / "models" / "model_card.json").read_text())["config"]
    _, val_items, _ = patient_split(read_items(kermany, "train"), float(config["val_fraction"]), int(config["seed"]))
    originals = [it for it in val_items if it.source_kind == "original"]
    names = list(REPEAT_VARIANTS)

    def probabilities(pixel_arrays: list[np.ndarray]) -> np.ndarray:
        x = np.stack([preprocess(p, predictor.size) for p in pixel_arrays])
        logits = predictor.runtime.run(x, False)[0]
        return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64) / predictor.card.temperature))

    spreads, base_probs, per_variant = [], [], []
    for item in originals:
        pixels = load_image(kermany / item.relpath).pixels
        seed = int(hashlib.sha256(f"repeat|{item.relpath}".encode()).hexdigest()[:16], 16)
        variants = [REPEAT_VARIANTS[n](pixels, np.random.default_rng(seed + i)).astype(np.float32)
                    for i, n in enumerate(names)]
        p = probabilities([pixels, *variants])
        base_probs.append(float(p[0]))
        spreads.append(float(np.max(np.abs(p[1:] - p[0]))))
        per_variant.append(np.abs(p[1:] - p[0]))
    spread = np.asarray(spreads)
    figures = {
        "format_version": 1,
        "model_fingerprint": predictor.card.fingerprint,
        "films": len(spread),
        "what": "largest |p(variant) - p(film)| over one-at-a-time repeat-film variations, per film",
        "variants": names,
        "median": round(float(np.median(spread)), 4),
        "p90": round(float(np.quantile(spread, 0.90)), 4),
        "threshold": round(float(np.quantile(spread, QUANTILE)), 4),
        "threshold_rule": f"the {QUANTILE:.2f} quantile over the validation originals",
        "max": round(float(spread.max()), 4),
        "p95_by_variant": {n: round(float(np.quantile(np.asarray(per_variant)[:, i], QUANTILE)), 4)
                           for i, n in enumerate(names)},
        "films_between_5_and_95_percent": int(np.sum((np.asarray(base_probs) > 0.05) & (np.asarray(base_probs) < 0.95))),
    }
    print(json.dumps(figures, indent=1))
    args.out.write_text(json.dumps(figures) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
