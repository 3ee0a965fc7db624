"""Batch throughput: ``pneumo-desktop predict`` end to end, core/scoring in steady state, the GUI's
batch list, and the forward pass alone under the tuning options.

    .venv/bin/python benchmarks/batch_throughput.py [--parts cli,inprocess,gui,forward] [--sets test,fullres]
        [--rounds 3] [--quick] [--json OUT]

- cli: ``pneumo-desktop predict DIR --format jsonl`` in a fresh process, wall clock from spawn to exit
  (interpreter start, model runtime import, model load, folder walk, decode, gate, forward, records, audit log);
  also with the installer venv (build/venv-installer) when it exists.
- inprocess: ``iter_scored`` over the set with the model loaded and warm (decode at draft size, gate,
  forward, audit log), images/s per pass; for each decode-prefetch setting.
- gui: the real window offscreen, the controller's batch (the model's
  read of each file, thumbnail, forward in chunks of 4 on the model thread, list rows), from start_batch
  to batch_finished.
- forward: ms/image of the forward pass alone for threads x channels-last x batch size.

Sets: ``test`` = the 624 official test images (256-px copies); ``fullres`` = the 12 full-resolution
originals + 60 distinct re-encodes (72 files, 0.9k-2.2k wide). Caches: none (the OS file cache is warm
after the first pass, as it would be for a folder just copied in).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as common  # noqa: E402

INSTALLER_PYTHON = common.REPO / "build" / "venv-installer" / "bin" / "python"


def set_files(name: str, quick: bool) -> tuple[Path, list[Path]]:
    if name == "test":
        folder, files = common.KERMANY / "test", common.test_split_files()
    elif name == "fullres":
        files = common.fullres_set()
        folder = files[0].parent
    else:
        raise SystemExit(f"unknown set {name}")
    if quick:  # a folder of the first few files, so the CLI is timed on exactly those
        folder = common.DATA_ROOT / f"quick_{name}"
        folder.mkdir(parents=True, exist_ok=True)
        for f in files[:24]:
            target = folder / f"{f.parent.name}_{f.name}"
            if not target.exists():
                target.write_bytes(f.read_bytes())
        files = sorted(folder.glob("*.*"))
    return folder, files


# ----- CLI, fresh process ----------
def cli(folder: Path, expected: int, rounds: int, python: Path, label: str) -> dict[str, Any]:
    env = dict(os.environ, PNEUMO_DESKTOP_HOME=str(common.isolate_home()), PYTHONPATH=str(common.CODE))
    command = [str(python), "-m", "pneumo_desktop", "predict", str(folder), "--format", "jsonl", "-q"]
    walls, lines = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        # cwd outside the checkout: "python -m" puts the cwd first on sys.path, ahead of PYTHONPATH (the tree
        # under test, which PNEUMO_BENCH_CODE may point elsewhere).
        out = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
        walls.append(time.perf_counter() - started)
        records = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
        lines = len(records)
        if out.returncode not in (0, 1) or lines != expected:
            raise SystemExit(
                f"{label}: exit {out.returncode}, {lines}/{expected} records\n{out.stderr[-2000:]}"
            )
    errors = sum(r["error"] is not None for r in records)
    wall = common.spread(walls)
    return {
        "label": label,
        "command": " ".join(command[1:]),
        "images": lines,
        "errors": errors,
        "wall_s": wall,
        "images_per_s": lines / wall["median"],
    }


def startup_only(python: Path, rounds: int) -> dict[str, Any]:
    """Fresh-process cost before the first image: interpreter, package + model runtime import, model load."""
    code = (
        "import time,sys; t=time.perf_counter(); from pneumo_desktop.core.predictor import Predictor; "
        "import pneumo_desktop.core.scoring, pneumo_desktop.core.loader; i=time.perf_counter(); "
        "Predictor.load(); print(i-t, time.perf_counter()-i)"
    )
    env = dict(os.environ, PYTHONPATH=str(common.CODE))
    walls, imports, loads = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, check=True,
                             cwd=tempfile.gettempdir())
        walls.append(time.perf_counter() - started)
        imp, load = (float(v) for v in out.stdout.split())
        imports.append(imp)
        loads.append(load)
    return {
        "wall_s": common.spread(walls),
        "import_s": common.spread(imports),
        "model_load_s": common.spread(loads),
    }


# ----- in-process steady state ----------
def inprocess(files: list[Path], rounds: int, batch: int, prefetch: int | None) -> dict[str, Any]:
    from pneumo_desktop.core import scoring
    from pneumo_desktop.core.predictor import Predictor

    predictor = Predictor.load(common.model_dir())
    kwargs: dict[str, Any] = {"batch_size": batch, "audit_to": "cli"}
    if prefetch is not None:
        kwargs["decode_threads"] = prefetch
    for _ in scoring.iter_scored(predictor, files[: 2 * batch], **kwargs):  # warm-up
        pass
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        count = sum(1 for item in scoring.iter_scored(predictor, files, **kwargs) if item.error is None)
        rates.append(len(files) / (time.perf_counter() - started))
    return {
        "images": len(files),
        "scored": count,
        "batch": batch,
        "decode_threads": prefetch,
        "images_per_s": common.spread(rates),
    }


# ----- GUI batch list ----------
def gui(files: list[Path], rounds: int) -> dict[str, Any]:
    from PySide6.QtCore import QEventLoop

    qapp, window = common.open_window()
    controller = window.controller

    def spin(condition: Any, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not condition() and time.monotonic() < end:
            qapp.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)

    finished: dict[str, bool] = {}
    controller.batch_finished.connect(lambda cancelled: finished.__setitem__("done", not cancelled))
    rates = []
    for r in range(rounds + 1):  # round 0 warms up on a few files
        finished.clear()
        batch = files[:8] if r == 0 else files
        started = time.perf_counter()
        controller.start_batch(list(batch))
        spin(lambda: "done" in finished, 3600)
        if r:
            rates.append(len(batch) / (time.perf_counter() - started))
    counts = window.study_list.model.counts()
    threads = _model_thread_inference_threads(controller)
    controller.shutdown()
    window.close()
    return {
        "images": len(files),
        "counts": counts,
        "images_per_s": common.spread(rates),
        "inference_threads": threads,
    }


def _model_thread_inference_threads(controller: Any) -> int:
    """The inference threads the GUI's predictor runs with (core/runtime.py: all cores but one)."""
    predictor = controller.session.get()
    return int(predictor.runtime.session.get_session_options().intra_op_num_threads)


# ----- forward pass options ----------
def forward_options(rounds: int) -> list[dict[str, Any]]:
    """The runtime's forward pass per image at each thread count and batch size (the app batches 16 in the CLI,
    chunks of 4 in the GUI list)."""
    import numpy as np

    from pneumo_desktop.core.predictor import Predictor

    rows = []
    for threads in (1, 2):
        predictor = Predictor.load(common.model_dir(), threads=threads)
        size = predictor.size
        for batch in (1, 4, 16, 32):
            x = np.random.default_rng(0).standard_normal((batch, 1, size, size), dtype=np.float32)
            for _ in range(3):
                predictor.runtime.run(x, heatmap=False)
            samples = []
            for _ in range(rounds * max(3, 48 // batch)):
                started = time.perf_counter()
                predictor.runtime.run(x, heatmap=False)
                samples.append((time.perf_counter() - started) * 1000.0 / batch)
            rows.append({"threads": threads, "batch": batch, "ms_per_image": common.spread(samples)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="cli,inprocess,gui,forward")
    parser.add_argument("--sets", default="test,fullres")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument(
        "--decode-threads",
        default="0,1,2",
        help="in-process prefetch settings to compare ('-' = the code's default)",
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    common.isolate_home()
    parts = args.parts.split(",")
    rounds = 1 if args.quick else args.rounds
    result: dict[str, Any] = {"machine": common.machine(), "model": common.model_identity(), "sets": {}}
    for name in args.sets.split(","):
        folder, files = set_files(name, args.quick)
        entry: dict[str, Any] = {"images": len(files)}
        if "cli" in parts:
            entry["cli"] = [
                cli(folder, len(files), rounds, Path(sys.executable), "dev venv")
            ]
            if INSTALLER_PYTHON.exists():
                entry["cli"].append(
                    cli(folder, len(files), rounds, INSTALLER_PYTHON, "installer venv")
                )
        if "inprocess" in parts:
            settings = [None if s == "-" else int(s) for s in args.decode_threads.split(",")]
            entry["inprocess"] = [inprocess(files, rounds, args.batch, s) for s in settings]
        if "gui" in parts:
            entry["gui"] = gui(files, rounds)
        result["sets"][name] = entry
    if "cli" in parts:
        result["startup"] = {"dev": startup_only(Path(sys.executable), rounds)}
        if INSTALLER_PYTHON.exists():
            result["startup"]["installer"] = startup_only(INSTALLER_PYTHON, rounds)
    if "forward" in parts:
        result["forward"] = forward_options(rounds)
    report(result)
    common.write_json(args.json, result)


def report(result: dict[str, Any]) -> None:
    print(f"# batch throughput ({result['model']})\nmachine: {result['machine']}")
    for name, entry in result["sets"].items():
        print(f"\n## {name}: {entry['images']} images")
        for c in entry.get("cli", []):
            print(
                f"  CLI {c['label']}: {common.fmt_spread(c['wall_s'], 's', 2)} "
                f"-> {c['images_per_s']:.1f} img/s "
                f"end to end ({c['errors']} errors)"
            )
        for p in entry.get("inprocess", []):
            print(
                f"  in-process batch {p['batch']} decode_threads {p['decode_threads']}: "
                f"{common.fmt_spread(p['images_per_s'], 'img/s')}"
            )
        if "gui" in entry:
            g = entry["gui"]
            print(f"  GUI batch list: {common.fmt_spread(g['images_per_s'], 'img/s')} counts {g['counts']}")
    for label, s in result.get("startup", {}).items():
        print(
            f"startup {label}: wall {common.fmt_spread(s['wall_s'], 's', 2)}; import "
            f"{common.fmt_spread(s['import_s'], 's', 2)}; "
            f"model load {common.fmt_spread(s['model_load_s'], 's', 3)}"
        )
    for row in result.get("forward", []):
        print(
            f"forward threads {row['threads']} "
            f"batch {row['batch']:2d}: "
            f"{common.fmt_spread(row['ms_per_image'], 'ms/img', 2)}"
        )


if __name__ == "__main__":
    main()
