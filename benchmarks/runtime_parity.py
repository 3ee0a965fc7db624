"""The app's runtime (ONNX export) against the torch model it was exported from, on a whole folder of films:
every probability, decision, warning and heatmap, through the whole Predictor (gate, orientation correction,
inversion retry). The CI check is tests/training/test_runtime_parity.py (samples and DICOM fixtures); this
runs the same comparison on the test split, which the issue's acceptance names (a parity check only: nothing
is chosen from it).

    python benchmarks/runtime_parity.py [--folder DIR] [--json OUT]     (needs the train extra: torch)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as common  # noqa: E402


def compare(folder: Path) -> dict[str, Any]:
    import numpy as np

    from pneumo_desktop.core.collect import collect_inputs
    from pneumo_desktop.core.errors import PneumoError
    from pneumo_desktop.core.model_card import CARD_FILENAME, WEIGHTS_FILENAME, ModelCard
    from pneumo_desktop.core.predictor import Predictor
    from pneumo_desktop.core.weights import ood_arrays, read_verified
    from training.model_io import build_model
    from training.runtime_export import TorchReference

    directory = common.model_dir()
    card = ModelCard.read(directory / CARD_FILENAME)
    tensors = read_verified(directory / WEIGHTS_FILENAME, card)
    app = Predictor.load(directory)
    reference = Predictor(card, TorchReference(build_model(card, tensors), card.cam_layers),
                          ood_arrays(tensors))
    files = collect_inputs([folder]).files
    worst = {"probability": 0.0, "heatmap": 0.0, "batch_probability": 0.0}
    mismatches: list[str] = []
    scored = 0
    for path in files:
        try:
            image, again = app.read_input(path), reference.read_input(path)
        except PneumoError:
            continue
        ours, theirs = app.predict(image), reference.predict(again)
        if (ours.rejected and ours.rejected.code) != (theirs.rejected and theirs.rejected.code) \
                or ours.label != theirs.label or image.warnings != again.warnings:
            mismatches.append(path.name)
            continue
        if theirs.probability is None or ours.probability is None:
            continue
        scored += 1
        worst["probability"] = max(worst["probability"], abs(ours.probability - theirs.probability))
        heat, expected = ours.heatmap(image.shape), theirs.heatmap(image.shape)
        worst["heatmap"] = max(worst["heatmap"], float(np.abs(np.asarray(heat) - np.asarray(expected)).max()))
    for start in range(0, len(files), 16):
        chunk = files[start:start + 16]
        try:
            ours_b = app.predict_batch([app.read_input(p) for p in chunk])
            theirs_b = reference.predict_batch([reference.read_input(p) for p in chunk])
        except PneumoError:
            continue
        for a, b in zip(ours_b, theirs_b, strict=True):
            if a.probability is not None and b.probability is not None:
                worst["batch_probability"] = max(worst["batch_probability"], abs(a.probability - b.probability))
    return {"folder": str(folder), "files": len(files), "scored": scored, "max_abs_difference": worst,
            "decision_or_warning_mismatches": mismatches, "model": card.display_name}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=common.KERMANY / "test")
    parser.add_argument("--json")
    args = parser.parse_args()
    common.isolate_home()
    result = compare(args.folder)
    print(json.dumps(result, indent=2))
    common.write_json(args.json, result)
    ok = not result["decision_or_warning_mismatches"] and result["max_abs_difference"]["probability"] <= 1e-4 \
        and result["max_abs_difference"]["batch_probability"] <= 1e-4 and result["max_abs_difference"]["heatmap"] <= 1e-3
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
