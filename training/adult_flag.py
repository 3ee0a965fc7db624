"""The adult-film flag: does a film of unknown age look like an adult's rather than a child's (1-5)?

The classifier was made for children aged 1-5, and a PNG or a DICOM without PatientAge/PatientBirthDate says
nothing about age. This fits a linear probe on the shipped model's gate embedding (the ``embedding`` output of
the ONNX export, computed in the same forward pass as the score, so the flag costs nothing at run time):
children = Kermany training films (the model's own validation patients held out for validation), adults = NIH
ChestX-ray14 films aged 18 or more from two public GitHub copies (see ../shared/data/external/README.md).

Against the shortcut (learning the archive instead of the anatomy: NIH is 1024² PNG, Kermany mostly 256-px
JPEG copies), every film of both sources goes through the same path before the model sees it: squashed to
256×256 and re-encoded as JPEG q90, as the Kermany copies were. The held-out NIH films are also reported as
stored (no re-encode), to show the flag does not hinge on that step.

Usage (writes models/adult_flag.json and training/adult_flag_manifest.csv):
    python -m training.adult_flag --talo MIRROR --chexnet MIRROR --data-entry Data_Entry_2017_v2020.csv.gz
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import gzip
import hashlib
import io
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SOURCES = {  # repository -> (commit, folders): the films the external README allows
    "muhammedtalo/COVID-19": ("ee3e2cffc0824711bed675275506b26f19be7198",
                              ["X-Ray Image DataSet/No_findings/", "X-Ray Image DataSet/Pneumonia/"]),
    "jrzech/reproduce-chexnet": ("a011a9ab108cb03a533aeab52dc934b02a823ac8", ["starter_images/"]),
}
LICENCE = "NIH ChestX-ray14: CC0 (acknowledge the NIH Clinical Center); the GitHub copy carries no licence of its own"
ADULT_AGE = 18
CHILD_FLAG_BUDGET = 0.01  # threshold: at most this share of validation children flagged
SIDE, QUALITY = 256, 90


@dataclass(frozen=True)
class ExternalFilm:
    repository: str
    commit: str
    path: str
    patient: str
    age: int
    sex: str
    view: str

    @property
    def split(self) -> str:
        """Patient-level: every film of one patient in one split."""
        bucket = int(hashlib.sha256(f"adult-flag/{self.patient}".encode()).hexdigest(), 16) % 100
        return "train" if bucket < 70 else "val" if bucket < 85 else "test"


def excluded(repository: str, commit: str, path: str, rules: list[dict[str, str]]) -> bool:
    return any(r["repository"] == repository and r["commit"] == commit and fnmatch.fnmatchcase(path, r["path"])
               for r in rules)


def read_exclusions(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def mirror_listing(mirrors: dict[str, Path]) -> dict[str, list[str]]:
    """Every path of each source repository at its recorded commit."""
    return {repository: subprocess.run(["git", "--git-dir", str(mirrors[repository]), "ls-tree", "-r", "--name-only",
                                        commit], capture_output=True, text=True, check=True).stdout.splitlines()
            for repository, (commit, _) in SOURCES.items()}


def listed_films(listing: dict[str, list[str]], entries: dict[str, dict[str, str]],
                 rules: list[dict[str, str]]) -> tuple[list[ExternalFilm], dict[str, int]]:
    """The allowed NIH films with their NIH age, exclude.csv applied before anything else is read."""
    films, counts = [], {"listed": 0, "excluded": 0, "no_entry": 0, "under_18": 0}
    for repository, (commit, folders) in SOURCES.items():
        for path in listing.get(repository, []):
            if not path.endswith(".png") or not any(path.startswith(f) for f in folders):
                continue
            counts["listed"] += 1
            if excluded(repository, commit, path, rules):
                counts["excluded"] += 1
                continue
            entry = entries.get(Path(path).name)
            if entry is None:
                counts["no_entry"] += 1
                continue
            age = int(entry["Patient Age"])
            if age < ADULT_AGE:
                counts["under_18"] += 1
                continue
            films.append(ExternalFilm(repository, commit, path, entry["Patient ID"], age, entry["Patient Gender"],
                                      entry["View Position"]))
    return films, counts


def read_entries(path: Path) -> dict[str, dict[str, str]]:
    with gzip.open(path, "rt", newline="", encoding="utf-8") as f:
        return {row["Image Index"]: row for row in csv.DictReader(f)}


def film_bytes(mirror: Path, film: ExternalFilm) -> bytes:
    return subprocess.run(["git", "--git-dir", str(mirror), "show", f"{film.commit}:{film.path}"],
                          capture_output=True, check=True).stdout


def archive_neutral(pixels: np.ndarray) -> np.ndarray:
    """What every film goes through: 256×256 squash and a JPEG q90 round trip (the Kermany copies' path)."""
    image = Image.fromarray(np.clip(pixels * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    buffer = io.BytesIO()
    image.resize((SIDE, SIDE), Image.Resampling.BILINEAR).save(buffer, format="JPEG", quality=QUALITY)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L"), dtype=np.float32) / 255.0


def embeddings(predictor, pixel_arrays: list[np.ndarray]) -> np.ndarray:  # type: ignore[no-untyped-def]
    from pneumo_desktop.core.preprocess import preprocess

    out = []
    for start in range(0, len(pixel_arrays), 32):
        x = np.stack([preprocess(p, predictor.size) for p in pixel_arrays[start:start + 32]])
        out.append(predictor.runtime.run(x, False)[1])
    return np.concatenate(out).astype(np.float64)


def _pixels_of_file(path: Path) -> np.ndarray:
    from pneumo_desktop.core.loader import load_image

    return load_image(path).pixels


def _pixels_of_bytes(data: bytes, cache: Path, name: str) -> np.ndarray:
    target = cache / name
    if not target.exists():
        target.write_bytes(data)
    return _pixels_of_file(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--talo", type=Path, required=True, help="git dir of muhammedtalo/COVID-19")
    parser.add_argument("--chexnet", type=Path, required=True, help="git dir of jrzech/reproduce-chexnet")
    parser.add_argument("--data-entry", type=Path, required=True, help="torchxrayvision's Data_Entry_2017_v2020.csv.gz")
    parser.add_argument("--kermany", type=Path, help="default: training/data_root.py's lookup")
    parser.add_argument("--kermany-train-limit", type=int, default=2400, help="children from the training split")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/pneumo_adult_flag_cache"))
    parser.add_argument("--out", type=Path, default=REPO / "models" / "adult_flag.json")
    parser.add_argument("--manifest", type=Path, default=REPO / "training" / "adult_flag_manifest.csv")
    parser.add_argument("--read-test", action="store_true",
                        help="only read the Kermany test split's children through the flag in --out (once, for the "
                             "shipped flag) and add the figure to it")
    args = parser.parse_args(argv)
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from pneumo_desktop.core.predictor import Predictor
    from training.data import patient_split, read_items
    from training.data_root import KERMANY_MISSING, data_root, kermany_dir

    started = time.time()
    kermany = args.kermany or kermany_dir()
    if kermany is None:
        print(KERMANY_MISSING, file=sys.stderr)
        return 2
    args.cache.mkdir(parents=True, exist_ok=True)
    predictor = Predictor.load(REPO / "models")
    if args.read_test:
        return _read_test(predictor, kermany, args.out)
    mirrors = {"muhammedtalo/COVID-19": args.talo, "jrzech/reproduce-chexnet": args.chexnet}
    exclusions = (data_root() or Path("/nonexistent")) / "external" / "exclude.csv"
    if not exclusions.is_file():
        print(f"exclude.csv not found ({exclusions}): it must be applied before any film is read", file=sys.stderr)
        return 2
    films, counts = listed_films(mirror_listing(mirrors), read_entries(args.data_entry), read_exclusions(exclusions))
    print(f"NIH films: {counts}; adults kept {len(films)}", flush=True)

    # Children: the model's own validation patients are held out (their films were never trained on).
    config = json.loads((REPO / "models" / "model_card.json").read_text())["config"]
    train_items, val_items, _ = patient_split(read_items(kermany, "train"), float(config["val_fraction"]),
                                              int(config["seed"]))
    rng = np.random.default_rng(20261203)
    chosen = [train_items[i] for i in sorted(rng.choice(len(train_items), min(args.kermany_train_limit,
                                                                              len(train_items)), replace=False))]
    child = {"train": [kermany / it.relpath for it in chosen], "val": [kermany / it.relpath for it in val_items]}
    adult = {s: [f for f in films if f.split == s] for s in ("train", "val", "test")}

    def adult_pixels(group: list[ExternalFilm]) -> list[np.ndarray]:
        return [_pixels_of_bytes(film_bytes(mirrors[f.repository], f), args.cache, Path(f.path).name) for f in group]

    features: dict[str, np.ndarray] = {}
    for split in ("train", "val"):
        features[f"child_{split}"] = embeddings(predictor, [archive_neutral(_pixels_of_file(p)) for p in child[split]])
        print(f"children {split}: {len(child[split])} films ({time.time() - started:.0f} s)", flush=True)
    for split in ("train", "val", "test"):
        raw = adult_pixels(adult[split])
        features[f"adult_{split}"] = embeddings(predictor, [archive_neutral(p) for p in raw])
        if split == "test":
            features["adult_test_as_stored"] = embeddings(predictor, raw)
        print(f"adults {split}: {len(adult[split])} films ({time.time() - started:.0f} s)", flush=True)

    x_train = np.concatenate([features["child_train"], features["adult_train"]])
    y_train = np.r_[np.zeros(len(features["child_train"])), np.ones(len(features["adult_train"]))]
    mean, scale = x_train.mean(axis=0), x_train.std(axis=0) + 1e-6
    x_val = np.concatenate([features["child_val"], features["adult_val"]])
    y_val = np.r_[np.zeros(len(features["child_val"])), np.ones(len(features["adult_val"]))]
    best = None
    for c in (0.001, 0.01, 0.1, 1.0):
        model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit((x_train - mean) / scale, y_train)
        auc = roc_auc_score(y_val, model.decision_function((x_val - mean) / scale))
        print(f"C={c}: validation AUC {auc:.4f}", flush=True)
        if best is None or auc > best[0]:
            best = (auc, c, model)
    assert best is not None
    auc, c, model = best
    coef, intercept = model.coef_[0], float(model.intercept_[0])

    def score(x: np.ndarray) -> np.ndarray:
        return ((x - mean) / scale) @ coef + intercept

    threshold = float(np.quantile(score(features["child_val"]), 1 - CHILD_FLAG_BUDGET))

    def flagged(x: np.ndarray) -> float:
        return float(np.mean(score(x) > threshold)) if len(x) else float("nan")

    metrics = {
        "validation_auc": round(float(auc), 4), "C": c,
        "children_validation_flagged": round(flagged(features["child_val"]), 4),
        "adults_validation_flagged": round(flagged(features["adult_val"]), 4),
        "adults_heldout_patients_flagged": round(flagged(features["adult_test"]), 4),
        "adults_heldout_patients_flagged_as_stored": round(flagged(features["adult_test_as_stored"]), 4),
        "counts": {k: int(len(v)) for k, v in features.items()},
    }
    print(json.dumps(metrics, indent=1), flush=True)
    flag = {
        "format_version": 1,
        "what": "linear probe on the model's gate embedding: > threshold = looks like an adult's film",
        "model_fingerprint": predictor.card.fingerprint,
        "mean": mean.tolist(), "scale": scale.tolist(), "coef": coef.tolist(), "intercept": intercept,
        "threshold": threshold,
        "threshold_rule": f"the {1 - CHILD_FLAG_BUDGET:.2f} quantile of validation children's scores",
        "metrics": metrics,
        "data": {"children": "Kermany et al. 2018 training split (CC BY 4.0), model's validation patients held out",
                 "adults": f"NIH ChestX-ray14 films aged >= {ADULT_AGE} ({LICENCE}); ages from torchxrayvision 1.5.7's "
                           "Data_Entry_2017_v2020.csv; exclude.csv applied first",
                 "acknowledgement": "NIH Clinical Center (Wang X. et al., ChestX-ray8, CVPR 2017)"},
    }
    args.out.write_text(json.dumps(flag) + "\n", encoding="utf-8")
    with args.manifest.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["repository", "commit", "path", "licence", "nih_patient_id", "age", "sex", "view", "split"])
        for film in films:
            writer.writerow([film.repository, film.commit, film.path, LICENCE, film.patient, film.age, film.sex,
                             film.view, film.split])
    print(f"wrote {args.out} and {args.manifest} in {time.time() - started:.0f} s")
    return 0


def _read_test(predictor, kermany: Path, out: Path) -> int:  # type: ignore[no-untyped-def]
    from pneumo_desktop.core.population_flag import AdultFlag

    flag = AdultFlag.load(out)
    files = [p for p in sorted((kermany / "test").glob("*/*")) if p.suffix.lower() in (".jpg", ".jpeg")]
    x = embeddings(predictor, [_pixels_of_file(p) for p in files])
    rate = float(np.mean([flag.looks_adult(row) for row in x]))
    data = json.loads(out.read_text(encoding="utf-8"))
    data["metrics"]["kermany_test_children_flagged"] = round(rate, 4)
    data["metrics"]["kermany_test_children"] = len(files)
    out.write_text(json.dumps(data) + "\n", encoding="utf-8")
    print(f"Kermany test split: {rate:.4f} of {len(files)} children flagged as adult")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
