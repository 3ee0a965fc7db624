"""Fuzz the image loader with >= 10,000 mutated files, each under a time limit.

    nice -n 15 .venv/bin/python benchmarks/fuzz_loader.py --count 10000

The property (the same as tests/robustness/test_fuzz_loader.py, which runs ~200 examples in CI): every
load either succeeds with finite float32 pixels in [0, 1] and a 2-D shape, or raises ImageLoadError with
one of the loader's known messages (tests/robustness/known_errors.py). Anything else is an unknown
failure: another exception type, an unknown message, a bad image, a hang past ``--limit`` seconds, or a
crash of the process (a C/C++/Rust abort).

Inputs are loaded in a worker process so that a hang or an abort is measured instead of ending the run:
the parent kills a worker that overruns the limit, records the input, and starts a new worker. Input i is
fully determined by (--seed, i), so any failure can be rebuilt with ``--only I``. The worker's stderr
(fd 2, where C libraries print) is captured per input to count inputs that made a library print.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.robustness.mutations import (  # noqa: E402 - needs the repo on sys.path first
    SEED_NAMES,
    Mutation,
    apply_mutations,
    random_mutations,
    seeds,
)

DRAFT_SIZE = 224  # what the CLI's batch path asks for


def build_input(seed: int, index: int) -> tuple[str, str, bytes, int | None, list[Mutation]]:
    """(seed name, suffix, bytes, draft size, mutations) of input ``index``: the same on every run."""
    name = SEED_NAMES[index % len(SEED_NAMES)]
    suffix, data = seeds()[name]
    mutations = random_mutations(random.Random(f"{seed}:{index}"))
    draft = DRAFT_SIZE if (index // len(SEED_NAMES)) % 2 else None
    return name, suffix, apply_mutations(data, mutations), draft, mutations


# --- worker ---------------------------------------------------------------------------------------------


def worker(seed: int, workdir: Path) -> None:
    """Read input indices on stdin, answer one JSON line per input on stdout."""
    import logging
    import warnings

    from tests.robustness.known_errors import load_outcome

    logging.disable(logging.CRITICAL)  # the loader logs library messages at INFO; not measured here
    stderr_path = workdir / f"stderr-{os.getpid()}.txt"
    stderr_fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # Results go out on a private copy of stdout; fds 1 and 2 both go to the capture file, so a library
    # that prints cannot corrupt the result stream and every byte it prints is counted.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(stderr_fd, 1)
    os.dup2(stderr_fd, 2)
    for line in sys.stdin:
        index = int(line)
        name, suffix, data, draft, _ = build_input(seed, index)
        target = workdir / f"input{suffix}"
        target.write_bytes(data)
        err_before = os.fstat(2).st_size
        started = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outcome = load_outcome(target, draft_size=draft)
        elapsed = time.perf_counter() - started
        result = {
            "i": index, "seed": name, "status": outcome.status, "key": outcome.key,
            "detail": outcome.detail[:160], "elapsed": elapsed,
            "warnings": sorted({f"{w.category.__name__} ({Path(w.filename).name}): {str(w.message)[:60]}"
                                for w in caught}),
            "stderr": os.fstat(2).st_size - err_before,
        }
        out.write(json.dumps(result) + "\n")
        out.flush()


# --- parent ---------------------------------------------------------------------------------------------


class Worker:
    def __init__(self, seed: int, workdir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", "--seed", str(seed), "--workdir", str(workdir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, cwd=REPO,
        )
        self.selector = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)

    def run(self, index: int, limit: float) -> dict[str, Any] | str:
        """The worker's answer, or "hang" / "crash"."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(f"{index}\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return "crash"
        if not self.selector.select(timeout=limit):
            return "hang"
        line = self.proc.stdout.readline()
        if not line:
            return "crash"
        return json.loads(line)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.selector.close()


def run(count: int, seed: int, limit: float, start: int, save_dir: Path | None) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fuzz_loader_") as tmp:
        workdir = Path(tmp)
        current = Worker(seed, workdir)
        began = time.perf_counter()
        for index in range(start, start + count):
            answer = current.run(index, limit)
            if isinstance(answer, str):  # hang or crash: record it, start a fresh worker
                name = SEED_NAMES[index % len(SEED_NAMES)]
                returncode = current.proc.poll()
                current.stop()
                answer = {"i": index, "seed": name, "status": "unknown", "key": answer,
                          "detail": f"exit status {returncode}" if answer == "crash" else f"> {limit:g} s",
                          "elapsed": limit if answer == "hang" else float("nan"), "warnings": [], "stderr": 0}
                current = Worker(seed, workdir)
            results.append(answer)
            if answer["status"] == "unknown" and save_dir is not None:
                name, suffix, data, _, _ = build_input(seed, index)
                save_dir.mkdir(parents=True, exist_ok=True)
                (save_dir / f"{index:06d}-{name}{suffix}").write_bytes(data)
            if (index - start + 1) % 1000 == 0:
                print(f"  {index - start + 1} inputs, {time.perf_counter() - began:.0f} s", file=sys.stderr)
        current.stop()
        wall = time.perf_counter() - began
    return summarise(results, wall, seed, limit)


def summarise(results: list[dict[str, Any]], wall: float, seed: int, limit: float) -> dict[str, Any]:
    times = [r["elapsed"] for r in results if r["elapsed"] == r["elapsed"]]
    slowest = max((r for r in results if r["elapsed"] == r["elapsed"]), key=lambda r: r["elapsed"])
    per_seed: dict[str, list[float]] = collections.defaultdict(list)
    for r in results:
        if r["elapsed"] == r["elapsed"]:
            per_seed[r["seed"]].append(r["elapsed"])
    unknown = [r for r in results if r["status"] == "unknown"]
    return {
        "count": len(results),
        "seed": seed,
        "limit_s": limit,
        "wall_s": round(wall, 1),
        "successes": sum(r["status"] == "ok" for r in results),
        "known_failures": sum(r["status"] == "known" for r in results),
        "unknown_failures": len(unknown),
        "known_by_message": dict(collections.Counter(r["key"] for r in results if r["status"] == "known")
                                 .most_common()),
        "unknown_by_kind": dict(collections.Counter(f"{r['seed']}: {r['key']}" for r in unknown).most_common()),
        "unknown_examples": [{k: r[k] for k in ("i", "seed", "key", "detail")} for r in unknown[:20]],
        "max_ms": round(1000 * max(times), 1),
        "median_ms": round(1000 * statistics.median(times), 2),
        "slowest": {"i": slowest["i"], "seed": slowest["seed"], "ms": round(1000 * slowest["elapsed"], 1),
                    "status": slowest["status"], "key": slowest["key"]},
        "per_seed_ms": {name: {"n": len(v), "median": round(1000 * statistics.median(v), 2),
                               "max": round(1000 * max(v), 1)} for name, v in sorted(per_seed.items())},
        "inputs_with_warnings": sum(bool(r["warnings"]) for r in results),
        "warning_kinds": dict(collections.Counter(w for r in results for w in r["warnings"]).most_common(10)),
        "inputs_printing_to_stderr": {name: n for name, n in collections.Counter(
            r["seed"] for r in results if r["stderr"]).most_common()},
    }


def print_summary(s: dict[str, Any]) -> None:
    print(f"inputs            {s['count']}  (seed {s['seed']}, limit {s['limit_s']:g} s per input, "
          f"{s['wall_s']:.0f} s in all)")
    print(f"successes         {s['successes']}")
    print(f"known failures    {s['known_failures']}")
    print(f"unknown failures  {s['unknown_failures']}")
    print(f"time per input    median {s['median_ms']:.2f} ms, max {s['max_ms']:.1f} ms")
    slow = s["slowest"]
    print(f"slowest input     #{slow['i']} ({slow['seed']}, {slow['status']}: {slow['key']}) {slow['ms']:.1f} ms")
    print("known failures by message:")
    for key, n in s["known_by_message"].items():
        print(f"  {n:6d}  {key}")
    if s["unknown_by_kind"]:
        print("unknown failures by kind:")
        for key, n in s["unknown_by_kind"].items():
            print(f"  {n:6d}  {key}")
    print("time per seed (ms):")
    for name, v in s["per_seed_ms"].items():
        print(f"  {name:20s} n={v['n']:5d}  median {v['median']:7.2f}  max {v['max']:8.1f}")
    print(f"inputs with Python warnings: {s['inputs_with_warnings']}")
    for key, n in s["warning_kinds"].items():
        print(f"  {n:6d}  {key}")
    print(f"inputs where a library printed to stderr: {s['inputs_printing_to_stderr']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0, help="first input index (with --count 1: one input)")
    parser.add_argument("--limit", type=float, default=10.0, help="seconds allowed per input")
    parser.add_argument("--save-failures", type=Path, metavar="DIR",
                        help="write every input with an unknown outcome into DIR")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the summary as JSON")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.seed, args.workdir)
        return 0
    summary = run(args.count, args.seed, args.limit, args.start, args.save_failures)
    print_summary(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if summary["unknown_failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
