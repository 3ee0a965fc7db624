"""Forward time of the shipped model (ensemble included), run by the app's runtime (ONNX Runtime) and by torch
(the training package, which the app ran before the runtime export), at batch 1 and 16, with the heatmap at
batch 1, and the gate's own cost per image. Also: importing each runtime and loading the model, and the
process's RSS after that, each in a fresh process.

    python benchmarks/model_forward.py [--threads 2] [--repeats 50] [--json OUT]

Prints medians with p10-p90 in ms. Needs the train extra (torch) for the torch rows; the same input tensors
go to both runtimes, and the heatmap rows are the app's CAM (feature maps x head weights) vs autograd Grad-CAM.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# Fresh-process import + load: (what is imported, how the model is loaded).
_LOAD = {
    "onnxruntime": "from pneumo_desktop.core.predictor import Predictor\nPredictor.load()",
    "torch": (
        "import torch\nfrom pneumo_desktop.core.model_card import ModelCard\n"
        "from pneumo_desktop.core.weights import read_verified\nfrom training.model_io import build_model\n"
        "from pneumo_desktop import paths\nd = paths.models_dir()\nc = ModelCard.read(d / 'model_card.json')\n"
        "build_model(c, read_verified(d / 'model.safetensors', c))"
    ),
}


def timed(fn, repeats: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    for _ in range(5):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    q = statistics.quantiles(samples, n=10)
    return statistics.median(samples), q[0], q[-1]


def load_cost(which: str, rounds: int = 3) -> dict[str, float]:
    """Median seconds to import the runtime and load the model in a fresh interpreter, and RSS after it."""
    code = ("import time\nt = time.perf_counter()\n" + _LOAD[which] + "\nimport sys\n"
            "rss = [l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]\n"
            "print(time.perf_counter() - t, int(rss) / 1024, 'torch' in sys.modules)")
    runs = []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env=dict(os.environ, PYTHONPATH=str(REPO)), cwd="/").stdout.split()
        runs.append((float(out[0]), float(out[1]), out[2] == "True"))
    return {"import_and_load_s": statistics.median(r[0] for r in runs),
            "rss_mib": statistics.median(r[1] for r in runs), "torch_imported": runs[0][2]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--json")
    args = parser.parse_args()
    import numpy as np
    import onnxruntime
    import torch

    from pneumo_desktop import paths
    from pneumo_desktop.core.predictor import Predictor
    from pneumo_desktop.core.weights import read_verified
    from training.model_io import build_model
    from training.runtime_export import TorchReference

    torch.set_num_threads(args.threads)
    app = Predictor.load(threads=args.threads)
    card = app.card
    model = build_model(card, read_verified(paths.models_dir() / "model.safetensors", card))
    model = model.to(memory_format=torch.channels_last).requires_grad_(False)  # as the app ran it before
    reference = TorchReference(model, card.cam_layers)
    result: dict[str, Any] = {"model": card.display_name, "threads": args.threads, "cpu": platform.processor()
                              or platform.machine(), "onnxruntime": onnxruntime.__version__,
                              "torch": torch.__version__, "rows": []}
    print(f"model {card.display_name}, {args.threads} threads, onnxruntime {onnxruntime.__version__}, "
          f"torch {torch.__version__}")
    rng = np.random.default_rng(0)
    for batch, heatmap in ((1, False), (16, False), (1, True)):
        x = rng.standard_normal((batch, 1, card.input_size, card.input_size), dtype=np.float32)
        for name, runtime in (("onnxruntime", app.runtime), ("torch", reference)):
            def run(runtime: Any = runtime, x: np.ndarray = x, heatmap: bool = heatmap) -> None:
                runtime.run(x, heatmap)

            med, lo, hi = timed(run, args.repeats)
            what = "forward + heatmap" if heatmap else "forward"
            result["rows"].append({"runtime": name, "what": what, "batch": batch, "median_ms": med,
                                   "p10_ms": lo, "p90_ms": hi})
            print(f"{name:12s} {what:17s} batch {batch:2d}: {med:7.2f} ms (p10 {lo:.2f}, p90 {hi:.2f}); "
                  f"{med / batch:.2f} ms per image")
    _, embedding, orientation, _ = app.runtime.run(x[:1], False)

    def gate() -> None:
        app.gate.distance_check(app.gate.ood_score(embedding[0]))
        if orientation is not None:
            app.gate.orientation(orientation[0])

    med, lo, hi = timed(gate, args.repeats * 4)
    print(f"gate on the embedding (distance + orientation call): {med:6.3f} ms (p10 {lo:.3f}, p90 {hi:.3f})")
    result["load"] = {name: load_cost(name) for name in _LOAD}
    for name, cost in result["load"].items():
        print(f"{name:12s} import + model load in a fresh process: {cost['import_and_load_s']:.2f} s, "
              f"RSS then {cost['rss_mib']:.0f} MiB (torch imported: {cost['torch_imported']})")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
