"""``pneumo-train export``: copy a finished run's model (weights + card) into ``models/``."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from pneumo_desktop.core.model_card import CARD_FILENAME, WEIGHTS_FILENAME, ModelCard
from pneumo_desktop.core.weights import read_verified
from training.card_markdown import write_model_card_md


def export(run_dir: Path, destination: Path, force: bool) -> int:
    source = Path(run_dir) / "model"
    if not (source / CARD_FILENAME).exists():
        print(f"{run_dir} has no finished model (expected {source / CARD_FILENAME})", file=sys.stderr)
        return 1
    card = ModelCard.read(source / CARD_FILENAME)
    read_verified(source / WEIGHTS_FILENAME, card)  # never ship a file that fails its own pin
    destination.mkdir(parents=True, exist_ok=True)
    targets = [destination / CARD_FILENAME, destination / WEIGHTS_FILENAME]
    existing = [t.name for t in targets if t.exists()]
    if existing and not force:
        print(f"{destination} already holds {', '.join(existing)}; use --force to replace them", file=sys.stderr)
        return 1
    for name in (WEIGHTS_FILENAME, CARD_FILENAME):
        tmp = destination / f".{name}.part"
        shutil.copyfile(source / name, tmp)
        tmp.replace(destination / name)
    write_model_card_md(destination)
    print(f"exported {card.display_name} (sha256 {card.weights_sha256[:12]}...) to {destination}")
    return 0
