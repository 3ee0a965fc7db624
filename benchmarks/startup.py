"""Start-up: launch -> window shown, launch -> first prediction shown, and the GUI-thread stall while torch
is imported and the model loaded after the first paint.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/startup.py [--rounds 5] [--json OUT]

Each round is a fresh process (benchmarks/_startup_driver.py) started the way ``pneumo-desktop [FILE]``
starts (launcher.main -> app.main); "launch" is the parent's clock just before the spawn, so interpreter
start and all imports are included. "with file" rounds open a different 2k x 2k JPEG each time (decode,
gate, forward, Grad-CAM, overlay, repaint). The Qt platform is offscreen (no display server here): a real
compositor adds its own mapping time. Also run with the installer venv's CPU-only torch when present.
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

DRIVER = Path(__file__).resolve().parent / "_startup_driver.py"
INSTALLER_PYTHON = common.REPO / "build" / "venv-installer" / "bin" / "python"


def one_launch(python: Path, file: Path | None) -> dict[str, Any]:
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    env = dict(
        os.environ,
        PNEUMO_BENCH_OUT=str(out),
        PYTHONPATH=str(common.CODE),
        PNEUMO_DESKTOP_HOME=tempfile.mkdtemp(prefix="pneumo_bench_home_"),
    )
    command = [str(python), str(DRIVER)] + ([str(file)] if file else [])
    launched = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    data = json.loads(out.read_text()) if out.stat().st_size else {}
    out.unlink()
    if not data or data.get("error"):
        raise SystemExit(f"driver failed ({proc.returncode}): {data.get('error')}\n{proc.stderr[-2000:]}")
    stamps = data["stamps"]
    rel = {k: (v - launched) for k, v in stamps.items() if k != "torch_imported_at_first_paint"}
    ticks = data["ticks"]
    result = {
        "window_exposed_s": rel.get("first_expose"),
        "window_painted_s": rel.get("first_paint"),
        "model_ready_s": rel.get("model_ready"),
        "prediction_shown_s": rel.get("prediction_shown"),
        "torch_imported_at_first_paint": bool(stamps.get("torch_imported_at_first_paint")),
        "stall_ms_paint_to_model": _max_gap(ticks, stamps.get("first_paint"), stamps.get("model_ready")),
        "stall_ms_model_to_prediction": _max_gap(
            ticks, stamps.get("model_ready"), stamps.get("prediction_shown")
        ),
    }
    return result


def _max_gap(ticks: list[float], start: float | None, end: float | None) -> float | None:
    """Longest interval between consecutive 10 ms ticks overlapping [start, end], in ms."""
    if start is None or end is None:
        return None
    inside = [t for t in ticks if start <= t <= end]
    before = [t for t in ticks if t < start][-1:]
    after = [t for t in ticks if t > end][:1]
    series = before + inside + after
    gaps = [b - a for a, b in zip(series, series[1:], strict=False)]
    return round(max(gaps) * 1000.0, 1) if gaps else None


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": runs}
    for key in runs[0]:
        values = [r[key] for r in runs if isinstance(r[key], int | float) and not isinstance(r[key], bool)]
        if values:
            out[key] = common.spread(values)
    out["torch_imported_at_first_paint"] = any(r["torch_imported_at_first_paint"] for r in runs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-installer", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    files = common.two_k_set()
    pythons = {"dev venv": Path(sys.executable)}
    if INSTALLER_PYTHON.exists() and not args.no_installer:
        pythons["installer venv"] = INSTALLER_PYTHON
    result: dict[str, Any] = {
        "machine": common.machine(),
        "model": common.model_identity(),
        "qt_platform": os.environ["QT_QPA_PLATFORM"],
        "variants": {},
    }
    for label, python in pythons.items():
        one_launch(python, None)  # warm the OS file cache (shared libraries, .pyc): a not-first launch
        empty = [one_launch(python, None) for _ in range(rounds)]
        with_file = [one_launch(python, files[i % len(files)]) for i in range(rounds)]
        result["variants"][label] = {"no_file": summarise(empty), "with_file": summarise(with_file)}
    report(result)
    common.write_json(args.json, result)


def report(result: dict[str, Any]) -> None:
    print(
        f"# start-up ({result['model']}, Qt platform {result['qt_platform']})\nmachine: {result['machine']}"
    )
    for label, variant in result["variants"].items():
        print(f"\n## {label}")
        for mode, summary in variant.items():
            print(f"  {mode}: torch imported at first paint: {summary['torch_imported_at_first_paint']}")
            for key, value in summary.items():
                if isinstance(value, dict):
                    unit, digits = ("ms", 1) if key.startswith("stall") else ("s", 3)
                    print(f"    {key:30s} {common.fmt_spread(value, unit, digits)}")


if __name__ == "__main__":
    main()
