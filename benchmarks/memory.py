"""Peak memory (RSS) with the model loaded and after a 1,000-image batch, for the GUI and the CLI.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/memory.py [--count 1000] [--json OUT]

Each figure comes from a fresh process, so nothing measured earlier inflates it:
- CLI: ``pneumo-desktop predict DIR --format jsonl`` over 1,000 distinct 256-px chest images (the 624 test
  copies + 376 train copies); peak RSS from the kernel's ru_maxrss of that child (os.wait4).
- CLI, in steps: the same work in one process that reports current and peak RSS after import, after the
  model load and after the batch.
- GUI: the real window offscreen: after the first paint, after the model load, after one 2k x 2k JPEG with
  its heatmap on screen, and after the 1,000-image batch in the study list (current and peak RSS).
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

MIB = 2**20


def _now_mib() -> dict[str, float]:
    """Current RSS and this process image's peak. VmHWM, not ru_maxrss: Linux carries ru_maxrss across
    exec from the forked parent, so a child of a big parent would report the parent's size."""
    status = Path("/proc/self/status").read_text()
    fields = {
        line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith("Vm")
    }
    return {"rss_mib": round(fields["VmRSS"] / 1024, 1), "peak_mib": round(fields["VmHWM"] / 1024, 1)}


# ----- children ----------
def child_cli_steps(folder: Path) -> dict[str, Any]:
    steps: dict[str, Any] = {"start": _now_mib()}
    from pneumo_desktop.core.collect import collect_inputs
    from pneumo_desktop.core.predictor import Predictor
    from pneumo_desktop.core.scoring import iter_scored

    steps["imported"] = _now_mib()
    predictor = Predictor.load(common.model_dir())
    steps["model_loaded"] = _now_mib()
    files = collect_inputs([folder]).files
    scored = sum(1 for item in iter_scored(predictor, files) if item.error is None)
    steps["after_batch"] = {**_now_mib(), "scored": scored}
    return steps


def child_gui(folder: Path, image: Path) -> dict[str, Any]:
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from pneumo_desktop import app
    from pneumo_desktop.core.collect import collect_inputs
    qapp = QApplication(sys.argv[:1])
    steps: dict[str, Any] = {}

    def spin(condition: Any, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not condition() and time.monotonic() < end:
            qapp.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)

    window = app.build()
    window.resize(1400, 900)
    window.show()
    spin(lambda: False, 0.3)
    steps["window_shown"] = _now_mib()
    controller = window.controller
    controller.load_model()
    spin(lambda: controller.session.card is not None or controller.session.error is not None, 120)
    steps["model_loaded"] = _now_mib()
    shown: dict[str, bool] = {}
    controller.prediction_ready.connect(lambda _r: shown.__setitem__("done", True))
    window.open_paths([image])
    spin(lambda: "done" in shown, 60)
    window.view.viewport().repaint()
    steps["one_2k_image_with_heatmap"] = _now_mib()
    finished: dict[str, bool] = {}
    controller.batch_finished.connect(lambda _c: finished.__setitem__("done", True))
    files = collect_inputs([folder]).files
    controller.start_batch(files)
    spin(lambda: "done" in finished, 3600)
    spin(lambda: False, 0.5)  # let the list model take the last rows
    steps["after_batch"] = {**_now_mib(), "counts": window.study_list.model.counts()}
    controller.shutdown()
    return steps


# ----- parent ----------
def run_child(python: Path, mode: str, folder: Path, image: Path) -> dict[str, Any]:
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    env = dict(
        os.environ,
        PNEUMO_DESKTOP_HOME=tempfile.mkdtemp(prefix="pneumo_bench_home_"),
        PYTHONPATH=str(common.CODE),
    )
    command = (
        [
            str(python),
            __file__,
            "--child",
            mode,
            "--folder",
            str(folder),
            "--image",
            str(image),
            "--out",
            str(out),
        ]
    )
    subprocess.run(command, check=True, env=env, capture_output=True)
    data = json.loads(out.read_text())
    out.unlink()
    return data


_PEAK_WRAPPER = (
    "import atexit, sys\n"
    "def _peak():\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    sys.stderr.write(f'BENCH_VMHWM_KIB {hwm}\\n')\n"
    "atexit.register(_peak)\n"
    "sys.argv = ['pneumo-desktop'] + sys.argv[1:]\n"
    "from pneumo_desktop.launcher import main\n"
    "sys.exit(main())\n"
)


def cli_peak(python: Path, folder: Path, expected: int) -> dict[str, Any]:
    """``pneumo-desktop predict`` as launched, reporting its own VmHWM at exit (see _now_mib)."""
    env = dict(
        os.environ,
        PNEUMO_DESKTOP_HOME=tempfile.mkdtemp(prefix="pneumo_bench_home_"),
        PYTHONPATH=str(common.CODE),
    )
    command = [str(python), "-c", _PEAK_WRAPPER, "predict", str(folder), "--format", "jsonl", "-q"]
    # cwd outside the checkout: "python -c" puts the cwd first on sys.path, ahead of PYTHONPATH (the tree
    # under test).
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    lines = sum(1 for line in proc.stdout.splitlines() if line.strip())
    marks = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("BENCH_VMHWM_KIB")]
    if lines != expected or not marks:
        raise SystemExit(
            f"CLI produced {lines}/{expected} records (exit {proc.returncode}): {proc.stderr[-1500:]}"
        )
    return {"peak_mib": round(int(marks[-1]) / 1024, 1), "records": lines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--image", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folder, image = Path(args.folder), Path(args.image)
        steps = child_gui(folder, image) if args.child == "gui" else child_cli_steps(folder)
        Path(args.out).write_text(json.dumps(steps))
        return
    count = 48 if args.quick else args.count
    folder = common.thousand_set(count)
    image = common.two_k_set()[0]
    pythons = {"dev venv": Path(sys.executable)}
    installer = common.REPO / "build" / "venv-installer" / "bin" / "python"
    if installer.exists():
        pythons["installer venv"] = installer
    result: dict[str, Any] = {"model": common.model_identity(), "images": count, "variants": {}}
    for label, python in pythons.items():
        variant = result["variants"][label] = {
            "cli_peak": cli_peak(python, folder, count),
            "cli_steps": run_child(python, "cli", folder, image),
        }
        variant["gui_steps"] = run_child(python, "gui", folder, image)
    result["machine"] = common.machine()  # last: it imports the model runtime, which would swell this parent
    report(result)
    common.write_json(args.json, result)


def report(result: dict[str, Any]) -> None:
    print(
        f"# peak RSS ({result['model']}), batch of {result['images']} distinct images\n"
        f"machine: {result['machine']}"
    )
    for label, variant in result["variants"].items():
        print(f"\n## {label}\n  CLI predict: peak {variant['cli_peak']['peak_mib']} MiB")
        for name in ("cli_steps", "gui_steps"):
            if name not in variant:
                continue
            print(f"  {name}:")
            for step, value in variant[name].items():
                extra = f"  {value.get('counts') or value.get('scored')}" if "after" in step else ""
                print(
                    f"    {step:28s} rss {value['rss_mib']:7.1f} MiB  "
                    f"peak {value['peak_mib']:7.1f} MiB{extra}"
                )


if __name__ == "__main__":
    main()
