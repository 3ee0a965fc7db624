"""Peak memory (RSS) and outcome of ``pneumo-desktop predict`` on each hostile file and on the whole folder.

    nice -n 10 .venv/bin/python benchmarks/hostile_memory.py [--json OUT] [--keep DIR]

The corpus is tests/robustness/hostile.py (decompression bombs, a 100-MP 16-bit PNG x 4, malformed LUTs...),
built into a temporary folder. Each run is a fresh process reporting its own VmHWM at exit (as
benchmarks/memory.py does), so the figure includes Python, torch and the model (~0.4-0.6 GB). A FIFO and a
symlink to /dev/zero are run on their own with a time limit: a hang is reported, not waited for.
Targets (issue 13): <= 1.5 GB for any single file, <= 2 GB for the folder.
For before/after figures run it with PNEUMO_BENCH_CODE=<an exported older tree> (benchmarks/_common.py).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Before _common, which may put an older tree (PNEUMO_BENCH_CODE) first on sys.path: the corpus is this one's.
from tests.robustness.hostile import build_hostile, special_files  # noqa: E402, I001
from benchmarks import _common as common  # noqa: E402
from benchmarks.memory import _PEAK_WRAPPER  # noqa: E402

TIME_LIMIT_S = 180.0
SPECIAL_LIMIT_S = 30.0


def run_predict(target: Path, limit: float) -> dict[str, Any]:
    env = dict(os.environ, PNEUMO_DESKTOP_HOME=tempfile.mkdtemp(prefix="pneumo_bench_home_"),
               PYTHONPATH=str(common.CODE))
    command = [sys.executable, "-c", _PEAK_WRAPPER, "predict", str(target), "--format", "jsonl"]
    started = time.perf_counter()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=limit, cwd=tempfile.gettempdir(),
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"outcome": f"HANG (killed after {limit:g} s)", "peak_mib": None, "seconds": limit}
    elapsed = time.perf_counter() - started
    marks = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("BENCH_VMHWM_KIB")]
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    errors = [r["error"] for r in records if r.get("error")]
    noise = [line for line in proc.stderr.splitlines()
             if line.strip() and not line.startswith(("pneumo-desktop: ", "BENCH_VMHWM_KIB"))]
    if len(records) == 1:
        outcome = errors[0].split(": ", 1)[-1] if errors else "scored"
    else:
        outcome = f"{len(records)} records, {len(errors)} errors"
    return {
        "outcome": outcome, "exit": proc.returncode, "seconds": round(elapsed, 1),
        "peak_mib": round(int(marks[-1]) / 1024, 1) if marks else None,
        "stderr_noise": noise[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json")
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    parser.add_argument("--only", help="run only files whose name contains this")
    parser.add_argument("--no-folder", action="store_true")
    parser.add_argument("--no-special", action="store_true")
    parser.add_argument("--folder-only", action="store_true")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="hostile_"))
    folder = root / "corpus"
    if not folder.exists():
        build_hostile(folder)
    result: dict[str, Any] = {"code": str(common.CODE), "files": {}}
    for path in sorted(folder.iterdir()) if not args.folder_only else []:
        if args.only and args.only not in path.name:
            continue
        result["files"][path.name] = run_predict(path, TIME_LIMIT_S)
        _print(path.name, result["files"][path.name])
    if not args.no_special and os.name == "posix" and not args.only and not args.folder_only:
        specials = special_files(root / f"special-{os.getpid()}")
        # /dev/zero with the old loader is read until memory runs out; only the FIFO is safe to time out.
        for label, path in specials.items():
            result["files"][f"{label} ({path.name})"] = run_predict(path, SPECIAL_LIMIT_S)
            _print(f"{label} ({path.name})", result["files"][f"{label} ({path.name})"])
    if not args.no_folder and not args.only:
        result["folder"] = run_predict(folder, TIME_LIMIT_S * 4)
        _print(f"folder ({len(list(folder.iterdir()))} files)", result["folder"])
    peaks = [v["peak_mib"] for v in result["files"].values() if v.get("peak_mib")]
    if peaks:
        print(f"max single-file peak {max(peaks):.0f} MiB (target 1536); "
              f"folder peak {result.get('folder', {}).get('peak_mib')} MiB (target 2048)")
    common.write_json(args.json, result)


def _print(label: str, row: dict[str, Any]) -> None:
    peak = "-" if row.get("peak_mib") is None else f"{row['peak_mib']:7.0f}"
    noise = f"  stderr: {row['stderr_noise']}" if row.get("stderr_noise") else ""
    print(f"{label:32s} peak {peak} MiB  {row['seconds']:6.1f} s  {row['outcome']}{noise}", flush=True)


if __name__ == "__main__":
    main()
