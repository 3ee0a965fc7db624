"""Speed baseline: Pillow full decode + torchvision DenseNet-121 (CheXNet's architecture), 224 px.

    .venv/bin/python benchmarks/baseline_densenet.py [--set test|fullres] [--batch 1,16] [--limit N]
        [--json OUT]

Randomly initialised (a speed baseline only, never a classifier), grayscale replicated to 3 channels,
``torch.inference_mode``, all cores (torch's default thread count). Each image: ``Image.open`` + full
decode (no draft), ``convert("L")``, bilinear resize to 224x224, per-image standardisation.

Two figures per batch size: ``end_to_end_s`` is a fresh process (Python, torch + torchvision import,
model construction, every image), the same thing ``pneumo-desktop predict`` is timed on; ``steady`` is
images/s over the whole set in a warm process. torchvision is imported only here (never by the app).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as common  # noqa: E402

SIZE = 224


def files_for(name: str) -> list[Path]:
    return {"test": common.test_split_files, "fullres": common.fullres_set, "two_k": common.two_k_set}[name]()


def load(path: Path) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        gray = im.convert("L").resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    arr = np.asarray(gray, dtype=np.float32) / 255.0
    return (arr - arr.mean()) / (arr.std() + 1e-3)


def build_model() -> Any:
    import torch
    from torchvision.models import densenet121

    torch.manual_seed(0)
    return densenet121(weights=None).eval()


def score(model: Any, files: list[Path], batch: int) -> int:
    """Decode, preprocess and classify every file; returns how many logits were produced."""
    import numpy as np
    import torch

    produced = 0
    for start in range(0, len(files), batch):
        arrays = [load(p) for p in files[start : start + batch]]
        x = torch.from_numpy(np.stack(arrays))[:, None].expand(-1, 3, -1, -1).contiguous()
        with torch.inference_mode():
            produced += int(model(x).shape[0])
    return produced


def child(args: argparse.Namespace) -> None:
    """The end-to-end process: everything from interpreter start is on the parent's clock."""
    files = files_for(args.set)[: args.limit or None]
    model = build_model()
    produced = score(model, files, args.batch_one)
    print(json.dumps({"images": produced}))


def steady(files: list[Path], batch: int, rounds: int) -> dict[str, Any]:
    model = build_model()
    score(model, files[: max(batch, 4)], batch)  # warm-up
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        score(model, files, batch)
        rates.append(len(files) / (time.perf_counter() - started))
    return {"images_per_s": common.spread(rates), "ms_per_image": 1000.0 / common.spread(rates)["median"]}


def end_to_end(name: str, batch: int, limit: int | None, rounds: int) -> dict[str, Any]:
    walls = []
    for _ in range(rounds):
        command = [sys.executable, __file__, "--child", "--set", name, "--batch-one", str(batch)]
        if limit:
            command += ["--limit", str(limit)]
        started = time.perf_counter()
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - started)
        produced = json.loads(out.stdout.strip().splitlines()[-1])["images"]
    n = produced
    return {"images": n, "wall_s": common.spread(walls), "images_per_s": n / common.spread(walls)["median"]}


def run(name: str, batches: list[int], limit: int | None, rounds: int, e2e_rounds: int) -> dict[str, Any]:
    files = files_for(name)[: limit or None]
    out: dict[str, Any] = {"set": name, "images": len(files)}
    for batch in batches:
        out[f"batch{batch}"] = {
            "steady": steady(files, batch, rounds),
            "end_to_end": end_to_end(name, batch, limit, e2e_rounds) if e2e_rounds else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", default="test", choices=("test", "fullres", "two_k"))
    parser.add_argument("--batch", default="1,16")
    parser.add_argument("--limit", type=int, default=0, help="first N images only (debugging)")
    parser.add_argument("--rounds", type=int, default=1, help="steady-state passes over the set")
    parser.add_argument("--e2e-rounds", type=int, default=1, help="fresh-process runs (0: none)")
    parser.add_argument("--json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch-one", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    import torch

    result = {
        "machine": common.machine(),
        "threads": torch.get_num_threads(),
        **run(args.set, [int(b) for b in args.batch.split(",")], args.limit, args.rounds, args.e2e_rounds),
    }
    report(result)
    common.write_json(args.json, result)


def report(result: dict[str, Any]) -> None:
    print(
        f"# DenseNet-121 baseline, {result['set']} set, {result['images']} images, "
        f"torch threads {result['threads']}, pid {os.getpid()}"
    )
    for key, value in result.items():
        if key.startswith("batch"):
            s, e = value["steady"], value["end_to_end"]
            e2e = (
                f"; end to end {common.fmt_spread(e['wall_s'], 's', 2)} = {e['images_per_s']:.1f} img/s"
                if e
                else ""
            )
            print(
                f"  {key}: steady {common.fmt_spread(s['images_per_s'], 'img/s')} "
                f"({s['ms_per_image']:.1f} ms/img){e2e}"
            )


if __name__ == "__main__":
    main()
