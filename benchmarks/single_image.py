"""Single image: drop -> probability + heatmap on screen, stage by stage, for 2k JPEGs and 16-bit DICOMs.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/single_image.py [--rounds 5] [--threads gui]
        [--sets two_k,originals,dicom16,dicom_j2k] [--gui] [--json OUT]

A drop starts two jobs at once (gui/controller.py): the image thread decodes the file at full resolution
and prepares the display (12-bit levels, window presets, the first frame), the model thread reads the file
the model's way (``core.scoring.read_for_model``: JPEGs DCT-scaled), scores it with Grad-CAM and colours a
<= 512 px overlay. The GUI thread then only makes two pixmaps and repaints.

Part 1 (headless, in this process) times each stage of both paths one after the other, on one thread:
``display_path`` and ``model_path`` are their sums, ``sequential`` is everything on one core (the upper
bound; on two cores the paths overlap). Rows marked "not in total" are alternatives.

Part 2 (``--gui``) is the figure that counts: it drives the real window offscreen. The clock starts at ``controller.show_file`` and stops when the prediction slot has
put the heatmap on the view and the viewport has repainted (a synchronous repaint right after the slot);
meanwhile the GUI thread waits in an event loop, as it does in the app. "first paint" stops the clock when the
image (or, for a J2K film, its half-resolution preview) is on the view and the viewport has repainted,
before the heatmap; "full-resolution paint" when the full image is.

The inference thread count defaults to the GUI's rule (all cores but one); caches: none exist on this path.
``--gui-only`` skips part 1, whose stages follow this tree's API: with PNEUMO_BENCH_CODE pointing at an older
tree (benchmarks/_common.py) part 2 times that tree's window on the same machine, for before/after figures.
Every round visits every file of a set once, so no file is read twice in a row.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _common as common  # noqa: E402

DISPLAY_STAGES = ("decode_full", "display_prep", "display_pixmap")
MODEL_STAGES = (
    "decode_model",
    "gate",
    "preprocess",
    "forward_gradcam",
    "ood_calibrate",
    "overlay_rgba",
    "overlay_pixmap",
)
STAGES = (*DISPLAY_STAGES, *MODEL_STAGES)
TOTALS = ("display_path", "model_path", "sequential")
EXTRA = ("forward_only", "blend_cli_full_res")


def input_sets(names: list[str], quick: bool) -> dict[str, list[Path]]:
    sets: dict[str, list[Path]] = {}
    for name in names:
        if name == "two_k":
            files = common.two_k_set()
        elif name == "originals":
            files = common.sample_files()
        elif name == "dicom16":
            files = common.dicom16_set()
        elif name == "dicom_j2k":
            files = [common.REAL_J2K_DICOM]  # the only real 15-bit file: repeated, the one exception
        else:
            raise SystemExit(f"unknown set {name}")
        sets[name] = files[:2] if quick else files
    return sets


def run_once(path: Path, predictor: Any) -> tuple[dict[str, float], dict[str, float], bool]:
    """One drop, stage by stage, as the GUI's workers and slots do it; returns (stages, extras, scored)."""
    from PySide6.QtGui import QPixmap

    from pneumo_desktop.core.gradcam import upsample_cam
    from pneumo_desktop.core.heatmap_render import blend
    from pneumo_desktop.core.loader import load_image
    from pneumo_desktop.core.predictor import calibrated_probability
    from pneumo_desktop.core.scoring import model_input_for
    from pneumo_desktop.gui.display_image import DisplayImage
    from pneumo_desktop.gui.heatmap_overlay import heatmap_rgba, overlay_shape
    from pneumo_desktop.gui.qimage import rgba_qimage

    t = common.StageTimer()
    with t("decode_full"):
        image = load_image(path)
    with t("display_prep"):
        display = DisplayImage.prepare(image)
    with t("display_pixmap"):
        QPixmap.fromImage(display.first_frame)
    with t("decode_model"):
        scored = model_input_for(image, predictor.size)  # as PredictWorker: a JPEG read again, anything else handed over
    with t("gate"):
        early = predictor.gate.check_image(scored)
    with t("preprocess"):
        x = predictor.input_tensor([scored])
    with t("forward_gradcam"):
        logits, embeddings, orientation, cams = predictor.runtime.run(x, heatmap=True)
    with t("ood_calibrate"):
        call = predictor.gate.orientation(orientation[0] if orientation is not None else None)
        rejection = predictor.gate.unsure(call) if call is not None else None
        rejection = rejection or predictor.gate.distance_check(predictor.gate.ood_score(embeddings[0]))[0]
        calibrated_probability(float(logits[0]), predictor.card.temperature)
    with t("overlay_rgba"):
        rgba = heatmap_rgba(upsample_cam(cams[0], overlay_shape(scored.shape)))
    with t("overlay_pixmap"):
        QPixmap.fromImage(rgba_qimage(rgba))
    stages = dict(t.ms)

    extra = common.StageTimer()
    with extra("forward_only"):
        predictor.runtime.run(x, heatmap=False)
    with extra("blend_cli_full_res"):
        blend(image.pixels, upsample_cam(cams[0], image.shape))
    return stages, dict(extra.ms), early is None and rejection is None


def headless(sets: dict[str, list[Path]], rounds: int, threads: int) -> dict[str, Any]:
    from pneumo_desktop.core.predictor import Predictor

    predictor = Predictor.load(common.model_dir(), threads=threads)
    for path in next(iter(sets.values()))[:2]:  # warm-up: first-call allocations, lazy imports
        run_once(path, predictor)
    out: dict[str, Any] = {}
    for name, files in sets.items():
        per_stage: dict[str, list[float]] = {s: [] for s in (*STAGES, *EXTRA, *TOTALS)}
        scored = 0
        for _ in range(rounds):
            for path in files:
                stages, extra, ok = run_once(path, predictor)
                scored += ok
                for key, value in (*stages.items(), *extra.items()):
                    per_stage[key].append(value)
                display_path = sum(stages[k] for k in DISPLAY_STAGES)
                model_path = sum(stages[k] for k in MODEL_STAGES)
                per_stage["display_path"].append(display_path)
                per_stage["model_path"].append(model_path)
                per_stage["sequential"].append(display_path + model_path)
        out[name] = {
            "files": len(files),
            "rounds": rounds,
            "scored_not_rejected": scored,
            "stages": {k: common.spread(v) for k, v in per_stage.items()},
        }
    return out


def gui_end_to_end(sets: dict[str, list[Path]], rounds: int) -> dict[str, Any]:
    """The real window: controller.show_file -> prediction slot done and viewport repainted."""
    qapp, window = common.open_window()
    controller = window.controller
    if controller.session.error is not None:
        return {"error": str(controller.session.error)}
    from PySide6.QtCore import QEventLoop, QTimer

    done: dict[str, float] = {}
    # The GUI thread waits in an event loop, as in the app (QApplication.exec), not in a polling loop that
    # would take one of the two cores from the workers.
    waiting = QEventLoop()

    def painted(*_args: Any) -> None:
        # Connected after the window's own slots, so this runs once the heatmap is on the view.
        window.view.viewport().repaint()
        done["t"] = time.perf_counter()
        waiting.quit()

    def image_painted(*_args: Any) -> None:
        # The first paint: the film on the view, before the heatmap (the figure issue 25 item 9 targets): the
        # half-resolution preview of a J2K film where the tree under test has one, else the full image.
        window.view.viewport().repaint()
        done.setdefault("image", time.perf_counter())

    def full_painted(*_args: Any) -> None:
        image_painted()
        done["full"] = time.perf_counter()

    if hasattr(controller, "image_preview"):
        controller.image_preview.connect(image_painted)
    controller.image_ready.connect(full_painted)
    controller.prediction_ready.connect(painted)
    controller.prediction_failed.connect(painted)
    controller.image_failed.connect(painted)
    out: dict[str, Any] = {}
    for name, files in sets.items():
        samples: list[float] = []
        first_paint: list[float] = []
        full_paint: list[float] = []
        for r in range(rounds + 1):  # round 0 warms up
            for path in files:
                done.clear()
                _spin(qapp, lambda: False, 0.05)  # let the previous file's follow-up work finish first
                guard = QTimer(singleShot=True, interval=60_000)
                guard.timeout.connect(waiting.quit)
                guard.start()
                started = time.perf_counter()
                controller.show_file(path)
                waiting.exec()
                guard.stop()
                if "t" not in done:
                    raise SystemExit(f"{path.name}: no result within 60 s")
                if r:
                    samples.append((done["t"] - started) * 1000.0)
                    if "image" in done:
                        first_paint.append((done["image"] - started) * 1000.0)
                    if "full" in done:
                        full_paint.append((done["full"] - started) * 1000.0)
        out[name] = common.spread(samples)
        if first_paint:
            out[f"{name} first paint"] = common.spread(first_paint)
        if full_paint:
            out[f"{name} full-resolution paint"] = common.spread(full_paint)
    controller.shutdown()
    window.close()
    return out


def _spin(qapp: Any, condition: Any, timeout: float) -> None:
    from PySide6.QtCore import QEventLoop

    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        qapp.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", default="gui", help="inference threads: a number, or 'gui' (cores - 1)")
    parser.add_argument("--gui-only", action="store_true", help="only part 2, the real window")
    parser.add_argument("--sets", default="two_k,originals,dicom16,dicom_j2k")
    parser.add_argument("--gui", action="store_true", help="also time the real window (offscreen)")
    parser.add_argument("--quick", action="store_true", help="two files per set, one round (debugging)")
    parser.add_argument("--json")
    args = parser.parse_args()
    common.isolate_home()
    rounds = 1 if args.quick else args.rounds
    sets = input_sets(args.sets.split(","), args.quick)

    from PySide6.QtWidgets import QApplication

    threads = max(1, (os.cpu_count() or 2) - 1) if args.threads == "gui" else int(args.threads)
    QApplication.instance() or QApplication(sys.argv[:1])
    result: dict[str, Any] = {
        "machine": common.machine(),
        "model": common.model_identity(),
        "code": str(common.CODE),
        "threads": threads,
        "headless": {} if args.gui_only else headless(sets, rounds, threads),
    }
    if args.gui or args.gui_only:
        result["gui"] = gui_end_to_end(sets, rounds)
    report(result)
    common.write_json(args.json, result)


def report(result: dict[str, Any]) -> None:
    print(f"# single image, drop -> result + heatmap  (threads {result['threads']}, {result['model']}, "
          f"code {result['code']})")
    print(f"machine: {result['machine']}")
    for name, data in result["headless"].items():
        print(
            f"\n## {name}: {data['files']} files x {data['rounds']} rounds "
            f"({data['scored_not_rejected']} runs scored, the rest rejected by the gate)"
        )
        for stage, s in data["stages"].items():
            note = "  (not in a total)" if stage in EXTRA else ""
            print(f"  {stage:18s} {common.fmt_spread(s, digits=2)}{note}")
    for name, s in result.get("gui", {}).items():
        print(f"GUI end to end, {name}: {common.fmt_spread(s) if isinstance(s, dict) else s}")


if __name__ == "__main__":
    main()
