"""Run every performance benchmark, each in its own process, and print one markdown table.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/run_all.py [--out DIR] [--quick] [--table-only]

Each script writes its JSON into ``--out`` (default: a new temp folder); ``--table-only`` rebuilds the
table from a folder already filled. The table is what docs/performance.md shows. Run it on a quiet
machine: before each script it waits (at most five minutes) until the CPUs are at least 85 % idle.
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

HERE = Path(__file__).resolve().parent
MB500 = 500e6 / 2**20  # the target is 500 MB; figures are in MiB
STEPS: list[tuple[str, list[str]]] = [
    ("single_gui_threads", ["single_image.py", "--gui"]),
    ("single_2_threads", ["single_image.py", "--threads", "2"]),
    ("batch", ["batch_throughput.py"]),
    ("baseline_test", ["baseline_densenet.py", "--set", "test", "--batch", "1,16"]),
    (
        "baseline_fullres",
        ["baseline_densenet.py", "--set", "fullres", "--batch", "1,16", "--e2e-rounds", "0"],
    ),
    (
        "baseline_two_k",
        ["baseline_densenet.py", "--set", "two_k", "--batch", "1", "--e2e-rounds", "0", "--rounds", "3"],
    ),
    ("startup", ["startup.py"]),
    ("memory", ["memory.py"]),
    ("hostile_memory", ["hostile_memory.py"]),
]
QUICK = {
    "single_image.py": ["--quick"],
    "batch_throughput.py": ["--quick"],
    "startup.py": ["--quick"],
    "memory.py": ["--quick"],
    "hostile_memory.py": [],
    "baseline_densenet.py": ["--limit", "16"],
}


def run_steps(out: Path, quick: bool, only: set[str] | None) -> None:
    for name, argv in STEPS:
        if only and name not in only:
            continue
        busy = common.wait_quiet()
        command = [sys.executable, str(HERE / argv[0]), *argv[1:], "--json", str(out / f"{name}.json")]
        if quick:
            command += QUICK[argv[0]]
        print(
            f"[run_all] {name} (machine {100 * busy:.0f} % busy before): {' '.join(command[1:])}", flush=True
        )
        started = time.perf_counter()
        subprocess.run(command, check=True)
        print(f"[run_all] {name} took {time.perf_counter() - started:.0f} s", flush=True)


# ----- table ----------
def _load(out: Path, name: str) -> dict[str, Any] | None:
    path = out / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _ms(s: dict[str, float]) -> str:
    return f"{s['median']:.1f} ms ({s['p10']:.1f}–{s['p90']:.1f})"


def _rate(s: dict[str, float]) -> str:
    return f"{s['median']:.1f} img/s ({s['p10']:.1f}–{s['p90']:.1f})"


def _verdict(ok: bool, detail: str = "") -> str:
    return ("met" if ok else "**missed**") + (f" ({detail})" if detail else "")


def table(out: Path) -> str:
    rows: list[
        tuple[str, str, str, str, str, str]
    ] = []  # figure, stages/process, ours, baseline, ratio, target
    single, single2 = _load(out, "single_gui_threads"), _load(out, "single_2_threads")
    base_two_k = _load(out, "baseline_two_k")
    base_ms = base_two_k["batch1"]["steady"]["ms_per_image"] if base_two_k else None
    if single:
        labels = {
            "two_k": "2k×2k JPEG",
            "originals": "original JPEGs (0.9–2.2k)",
            "dicom16": "16-bit DICOM 2k×2k",
            "dicom_j2k": "15-bit J2K DICOM (real)",
        }
        for key, label in labels.items():
            if key not in single["headless"]:
                continue
            stages = single["headless"][key]["stages"]
            gui = single.get("gui", {}).get(key)
            if isinstance(gui, dict):
                ratio = base = ""
                if key == "two_k" and base_ms:
                    base = f"{base_ms:.1f} ms (decode+forward, no CAM)"
                    ratio = f"{base_ms / gui['median']:.1f}×"
                target = (
                    _verdict(gui["median"] <= 60, f"target ≤ 60 ms, {gui['median'] - 60:+.0f} ms")
                    if key == "two_k"
                    else "—"
                )
                rows.append(
                    (
                        f"drop → result + heatmap on screen, {label}",
                        "real window (offscreen): full decode + display prep ∥ model read + gate + "
                        f"forward+CAM + 512-px overlay, slots, repaint; GUI process, {single['threads']} "
                        "inference thread",
                        _ms(gui),
                        base,
                        ratio,
                        target,
                    )
                )
            for part, what in (
                ("display_path", "full decode, display prep, pixmap (image thread)"),
                ("model_path", "model read, gate, preprocess, forward+CAM, overlay (model thread)"),
                ("sequential", "both paths one after the other on one core (upper bound)"),
            ):
                rows.append((f"same, headless, {label}: {part}", what, _ms(stages[part]), "", "", ""))
        if single2 and "two_k" in single2["headless"]:
            rows.append(
                (
                    "drop → result + heatmap, 2k×2k JPEG, 2 inference threads",
                    "both paths one after the other, headless",
                    _ms(single2["headless"]["two_k"]["stages"]["sequential"]),
                    "",
                    "",
                    "",
                )
            )
    batch = _load(out, "batch")
    base_test = _load(out, "baseline_test")
    base_full = _load(out, "baseline_fullres")
    if batch:
        for key, label, target, base in (
            ("test", "624 test images, 256 px", 150, base_test),
            ("fullres", "72 full-resolution originals + re-encodes", 60, base_full),
        ):
            entry = batch["sets"].get(key)
            if not entry:
                continue
            best_base = _best_steady(base)
            for p in entry.get("inprocess", []):
                rate = p["images_per_s"]["median"]
                ratio = f"{rate / best_base:.0f}×" if best_base else ""
                rows.append(
                    (
                        f"batch steady state, {label}, decode_threads={p['decode_threads']}",
                        "decode (draft), gate, forward, audit; CLI core in-process, batch 16",
                        _rate(p["images_per_s"]),
                        f"{best_base:.1f} img/s" if best_base else "",
                        ratio,
                        _verdict(rate >= target, f"target ≥ {target}"),
                    )
                )
            for c in entry.get("cli", []):
                base_wall = _best_e2e(base) if key == "test" else None
                wall = c["wall_s"]["median"]
                rows.append(
                    (
                        f"`pneumo-desktop predict`, {label}, {c['label']}",
                        "process start, imports, model load, walk, decode, gate, forward, records; CLI",
                        f"{wall:.2f} s = {c['images_per_s']:.0f} img/s",
                        f"{base_wall:.1f} s" if base_wall else "",
                        f"{base_wall / wall:.1f}×" if base_wall else "",
                        _verdict(base_wall / wall >= 10, "target ≥ 10×") if base_wall else "",
                    )
                )
            if "gui" in entry:
                g = entry["gui"]
                rows.append(
                    (
                        f"GUI batch list, {label}",
                        f"model read (draft), thumbnail, gate, forward in chunks "
                        f"of 4, rows; GUI process, {g['inference_threads']} inference thread",
                        _rate(g["images_per_s"]),
                        "",
                        "",
                        "",
                    )
                )
    startup = _load(out, "startup")
    if startup:
        for label, variant in startup["variants"].items():
            nf, wf = variant["no_file"], variant["with_file"]
            if "window_painted_s" not in nf:
                continue
            paint = nf["window_painted_s"]["median"]
            rows.append(
                (
                    f"launch → window painted, {label}",
                    "process start, Qt + app imports, build, first paint (offscreen); GUI",
                    f"{paint:.2f} s",
                    "",
                    "",
                    _verdict(paint <= 0.8, f"target ≤ 0.8 s, {paint - 0.8:+.2f} s"),
                )
            )
            if "prediction_shown_s" in wf:
                rows.append(
                    (
                        f"launch → first prediction shown (2k JPEG), {label}",
                        "+ model runtime import, model load, decode, CAM, overlay; GUI",
                        f"{wf['prediction_shown_s']['median']:.2f} s",
                        "",
                        "",
                        "",
                    )
                )
            if "stall_ms_paint_to_model" in nf:
                rows.append(
                    (
                        f"longest GUI-thread stall while the model loads, {label}",
                        "10 ms QTimer, first paint → model ready; GUI",
                        f"{nf['stall_ms_paint_to_model']['median']:.0f} ms",
                        "",
                        "",
                        "",
                    )
                )
    memory = _load(out, "memory")
    if memory:
        count = memory["images"]
        for label, variant in memory["variants"].items():
            peak = variant["cli_peak"]["peak_mib"]
            rows.append(
                (
                    f"peak RSS, `pneumo-desktop predict` over {count:,} images, {label}",
                    "CLI",
                    f"{peak:.0f} MiB",
                    "",
                    "",
                    _verdict(peak <= MB500, f"target ≤ 500 MB = 477 MiB, {peak - MB500:+.0f} MiB"),
                )
            )
            if "gui_steps" in variant:
                steps = variant["gui_steps"]
                gui_peak = steps["after_batch"]["peak_mib"]
                rows.append(
                    (
                        f"peak RSS, GUI: model loaded → one 2k image + heatmap → "
                        f"{count:,}-image batch, {label}",
                        "GUI process",
                        f"{steps['model_loaded']['rss_mib']:.0f} → "
                        f"{steps['one_2k_image_with_heatmap']['rss_mib']:.0f} → {gui_peak:.0f} MiB peak",
                        "",
                        "",
                        _verdict(
                            gui_peak <= MB500, f"target ≤ 500 MB = 477 MiB, {gui_peak - MB500:+.0f} MiB"
                        ),
                    )
                )
    head = (
        "| figure | stages, process | ours: median (p10–p90) | DenseNet-121 baseline | ratio | target |\n"
        "|---|---|---|---|---|---|\n"
    )
    return head + "".join(f"| {' | '.join(r)} |\n" for r in rows)


def _best_steady(base: dict[str, Any] | None) -> float | None:
    if not base:
        return None
    return max(v["steady"]["images_per_s"]["median"] for k, v in base.items() if k.startswith("batch"))


def _best_e2e(base: dict[str, Any] | None) -> float | None:
    if not base:
        return None
    walls = [
        v["end_to_end"]["wall_s"]["median"]
        for k, v in base.items()
        if k.startswith("batch") and v.get("end_to_end")
    ]
    return min(walls) if walls else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated step names")
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="pneumo_bench_results_"))
    out.mkdir(parents=True, exist_ok=True)
    if not args.table_only:
        run_steps(out, args.quick, set(args.only.split(",")) if args.only else None)
    print(f"\nresults: {out}\nmachine: {json.dumps(common.machine())}\nmodel: {common.model_identity()}\n")
    print(table(out))


if __name__ == "__main__":
    main()
