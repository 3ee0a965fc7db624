"""Measure (and, with --tune, set) the "not a chest X-ray" gate on non-chest images that installed packages carry.

Non-chest set: a frozen list (benchmarks/gate_nonchest_list.json, with sha256) of scikit-image's bundled images,
scikit-learn's sample images and the CT/MR/RT/RGB files inside pydicom's wheel, plus a grayscale copy of every colour
image (so the learned score, not just the colour check, is exercised). The list is split in two halves by sha256:
the OOD threshold is tuned on the first half only (the lowest threshold that rejects <= 1 % of the patient-level
*validation* chest films), and every figure is reported on the other half and on the official test split.

    python benchmarks/gate_ood.py --freeze          # (re)write the frozen list from the installed packages
    python benchmarks/gate_ood.py --tune            # tune on half A, write models/model_card.json, report on half B
    python benchmarks/gate_ood.py                   # report only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
LIST = REPO / "benchmarks" / "gate_nonchest_list.json"
KERMANY = REPO.parent / "shared" / "data" / "kermany"
MAX_VAL_REJECT = 0.01


def _roots() -> dict[str, Path]:
    import pydicom
    import skimage
    import sklearn

    return {
        "skimage": Path(skimage.__file__).parent / "data",
        "sklearn": Path(sklearn.__file__).parent / "datasets" / "images",
        "pydicom": Path(pydicom.__file__).parent / "data" / "test_files",
    }


def freeze() -> None:
    entries = []
    for source, root in _roots().items():
        for path in sorted(root.iterdir()):
            if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".dcm", ".tif", ".gif"}:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                entries.append({"source": source, "file": path.name, "sha256": digest})
    LIST.write_text(json.dumps(entries, indent=1) + "\n")
    print(f"froze {len(entries)} files into {LIST.relative_to(REPO)}")


def _load_nonchest() -> tuple[list[tuple[str, object, int]], int]:
    """(name, LoadedImage, half) for every decodable frozen file and its grayscale variant."""
    from pneumo_desktop.core.errors import ImageLoadError
    from pneumo_desktop.core.loader import load_image

    roots = _roots()
    items, undecodable = [], 0
    for entry in json.loads(LIST.read_text()):
        path = roots[entry["source"]] / entry["file"]
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            print(f"  changed or missing, skipped: {entry['source']}/{entry['file']}")
            continue
        try:
            image = load_image(path)
        except ImageLoadError:
            undecodable += 1
            continue
        half = int(entry["sha256"][-1], 16) % 2
        items.append((f"{entry['source']}/{entry['file']}", image, half))
        if image.metadata.get("colourfulness") is not None:
            gray = type(image)(image.pixels, image.path, image.kind, image.file_sha256,
                               {k: v for k, v in image.metadata.items() if k != "colourfulness"})
            items.append((f"gray:{entry['source']}/{entry['file']}", gray, half))
    return items, undecodable


def _chest_images(split: str, predictor) -> list:  # type: ignore[no-untyped-def]
    from pneumo_desktop.core.loader import load_image
    from training.data import patient_split, read_items

    items = read_items(KERMANY, "train" if split == "val" else "test")
    if split == "val":
        cfg = predictor.card.config
        _, items, _ = patient_split(items, float(cfg["val_fraction"]), int(cfg["seed"]))
    return [load_image(KERMANY / it.relpath, draft_size=predictor.size) for it in items]


def _decisions(predictor, images) -> tuple[list[str | None], np.ndarray]:  # type: ignore[no-untyped-def]
    codes, scores = [], []
    for start in range(0, len(images), 64):
        for p in predictor.predict_batch(images[start:start + 64]):
            codes.append(p.rejected.code if p.rejected else None)
            scores.append(np.nan if p.ood_score is None else p.ood_score)
    return codes, np.array(scores)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--freeze", action="store_true")
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    if args.freeze:
        freeze()
        return 0
    from pneumo_desktop import paths
    from pneumo_desktop.core.model_card import CARD_FILENAME, ModelCard
    from pneumo_desktop.core.predictor import Predictor
    from training.card_markdown import write_model_card_md

    predictor = Predictor.load()
    nonchest, undecodable = _load_nonchest()
    print(f"non-chest: {len(nonchest)} images ({undecodable} frozen files do not decode and are not counted)")
    if args.tune:
        predictor.gate.ood_threshold = float("inf")  # raw distances, before any threshold
        _, val_scores = _decisions(predictor, _chest_images("val", predictor))
        tune = [im for _, im, half in nonchest if half == 0]
        tune_codes, tune_scores = _decisions(predictor, tune)
        # The highest threshold that still rejects every non-chest image of the tuning half that the cheap checks
        # let through (with a 5 % margin), but never below the 99th percentile of validation chest films.
        passed = tune_scores[[c is None for c in tune_codes]]
        floor = float(np.quantile(val_scores, 1 - MAX_VAL_REJECT))
        threshold = max(floor, 0.95 * float(np.nanmin(passed))) if passed.size else floor
        predictor.gate.ood_threshold = threshold
        tune_after, _ = _decisions(predictor, tune)
        print(f"tuned OOD threshold {threshold:.2f} (validation floor {floor:.2f}): validation chest films above it "
              f"{np.mean(val_scores > threshold):.2%}; non-chest tuning half rejected by the whole gate "
              f"{np.mean([c is not None for c in tune_after]):.1%} of {len(tune)}")
        card_path = paths.models_dir() / CARD_FILENAME
        card = ModelCard.read(card_path)
        assert card.ood is not None
        card.ood["threshold"] = round(threshold, 4)
        card.ood["threshold_rule"] = ("0.95 x the lowest distance of a non-chest image on half A of the frozen "
                                      "list, floored at the 0.99 quantile of patient-level validation distances "
                                      "(benchmarks/gate_ood.py --tune)")
        card.write(card_path)
        write_model_card_md(paths.models_dir())
        predictor = Predictor.load()
    report = [(name, im) for name, im, half in nonchest if half == 1]
    codes, _ = _decisions(predictor, [im for _, im in report])
    rejected = [c for c in codes if c]
    print(f"non-chest report half: rejected {len(rejected)}/{len(report)} = {len(rejected) / max(len(report), 1):.1%}")
    for code in sorted(set(rejected)):
        print(f"  {code}: {rejected.count(code)}")
    for (name, _), code in zip(report, codes, strict=True):
        if code is None:
            print(f"  accepted (gate miss): {name}")
    test_codes, _ = _decisions(predictor, _chest_images("test", predictor))
    n_rej = sum(c is not None for c in test_codes)
    print(f"Kermany official test split: rejected {n_rej}/{len(test_codes)} = {n_rej / len(test_codes):.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
