"""``pneumo-train export``: a finished run's model (weights + card) into ``models/``, with its runtime export;
``pneumo-train export-onnx``: (re)write the runtime export of a model directory in place."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from pneumo_desktop.core.errors import ModelLoadError
from pneumo_desktop.core.model_card import CARD_FILENAME, RUNTIME_FILENAME, WEIGHTS_FILENAME, ModelCard
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
    targets = [destination / name for name in (CARD_FILENAME, WEIGHTS_FILENAME, RUNTIME_FILENAME)]
    existing = [t.name for t in targets if t.exists()]
    if existing and not force:
        print(f"{destination} already holds {', '.join(existing)}; use --force to replace them", file=sys.stderr)
        return 1
    (destination / RUNTIME_FILENAME).unlink(missing_ok=True)  # a stale export must not outlive its card
    for name in (WEIGHTS_FILENAME, CARD_FILENAME):
        tmp = destination / f".{name}.part"
        shutil.copyfile(source / name, tmp)
        tmp.replace(destination / name)
    # Exported again rather than copied: a run saved before the runtime export existed has none, and the
    # export is checked against the torch model on the way.
    status = export_onnx(destination)
    if status:
        return status
    write_model_card_md(destination)
    print(f"exported {card.display_name} (sha256 {card.weights_sha256[:12]}...) to {destination}")
    return 0


def export_onnx(model_dir: Path) -> int:
    """Write ``model_dir``/model.onnx from the weights its card pins, and pin it in the card (decision fields
    and weights untouched, so the model's fingerprint stays the same)."""
    from training.model_io import build_model
    from training.runtime_export import export_runtime

    model_dir = Path(model_dir)
    try:
        card = ModelCard.read(model_dir / CARD_FILENAME)
        model = build_model(card, read_verified(model_dir / WEIGHTS_FILENAME, card))
    except ModelLoadError as exc:
        print(f"{model_dir}: {exc}", file=sys.stderr)
        return 3
    export_runtime(model, card, model_dir, log=print)
    card.write(model_dir / CARD_FILENAME)
    print(f"wrote {model_dir / RUNTIME_FILENAME} for {card.display_name} (sha256 {card.runtime['sha256'][:12]}...)"
          if card.runtime else "")
    return 0
