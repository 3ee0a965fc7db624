"""Data: which files, which split, and a decoded cache of model-size images.

Reads ``manifest.csv`` when present (split, label, patient id, source kind), else the public release's
``<root>/<split>/{NORMAL,PNEUMONIA}`` layout. Validation is a patient-level split of the official training
split; the official test split is never read here except by ``evaluate``.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.preprocess import resize_square

LABELS = ("NORMAL", "PNEUMONIA")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


@dataclass(frozen=True)
class Item:
    relpath: str
    split: str
    label: int  # 0 NORMAL, 1 PNEUMONIA
    patient_id: str
    source_kind: str


def patient_id_from_name(stem: str) -> str:
    """Same rule as the manifest: personN for pneumonia, the IM-NNNN / NORMAL2-IM-NNNN prefix for normals."""
    match = re.match(r"(person\d+)_", stem) or re.match(r"((?:NORMAL2-)?IM-\d+)", stem)
    return match.group(1) if match else stem


def read_items(root: Path, split: str) -> list[Item]:
    manifest = Path(root) / "manifest.csv"
    if manifest.exists():
        with open(manifest, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.DictReader(fh) if r["split"] == split]
        return [
            Item(r["path"], split, LABELS.index(r["label"]), r["patient_id"], r.get("source_kind", "unknown"))
            for r in rows
        ]
    items = []
    for label_index, label in enumerate(LABELS):
        folder = Path(root) / split / label
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} not found: expected <data>/{split}/{{NORMAL,PNEUMONIA}}/")
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                items.append(Item(f"{split}/{label}/{path.name}", split, label_index,
                                  patient_id_from_name(path.stem), "unknown"))
    return items


def patient_split(items: list[Item], fraction: float, seed: int) -> tuple[list[Item], list[Item], list[str]]:
    """Hold out ``fraction`` of patients (stratified by label) for validation; never split a patient."""
    by_patient: dict[str, list[Item]] = {}
    for item in items:
        by_patient.setdefault(item.patient_id, []).append(item)
    rng = random.Random(seed)
    val_patients: list[str] = []
    for label in (0, 1):
        patients = sorted(p for p, its in by_patient.items() if its[0].label == label)
        rng.shuffle(patients)
        target = fraction * sum(len(by_patient[p]) for p in patients)
        taken = 0
        for p in patients:
            if taken >= target:
                break
            val_patients.append(p)
            taken += len(by_patient[p])
    held = set(val_patients)
    train = [i for i in items if i.patient_id not in held]
    val = [i for i in items if i.patient_id in held]
    return train, val, sorted(val_patients)


def _decode(root: Path, item: Item, size: int) -> tuple[np.ndarray, str]:
    image = load_image(Path(root) / item.relpath)
    return resize_square(image.pixels, size).astype(np.float16), image.file_sha256


def decode_all(root: Path, items: list[Item], size: int, cache_dir: Path | None, threads: int = 2
               ) -> tuple[np.ndarray, list[str]]:
    """(N, size, size) float16 in [0, 1] through the app's own loader and resize, plus file hashes.

    Cached on disk keyed by the file list and size, so a resumed or repeated run decodes nothing.
    """
    key = hashlib.sha256(("\n".join(i.relpath for i in items) + f"|{size}").encode()).hexdigest()[:16]
    if cache_dir is not None:
        cache = Path(cache_dir) / f"decoded_{size}_{key}.npz"
        if cache.exists():
            with np.load(cache) as data:
                return data["pixels"], list(data["sha256"])
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda it: _decode(root, it, size), items))
    pixels = np.stack([r[0] for r in results]) if results else np.zeros((0, size, size), np.float16)
    hashes = [r[1] for r in results]
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        # Per-process temp name: under torchrun every rank decodes and writes the same cache at once.
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, pixels=pixels, sha256=np.array(hashes))
        tmp.replace(cache)
    return pixels, hashes


def data_fingerprint(items: list[Item], hashes: list[str]) -> str:
    lines = sorted(f"{i.relpath},{h}" for i, h in zip(items, hashes, strict=True))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
