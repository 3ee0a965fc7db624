"""Single image: drop -> probability + heatmap on screen, stage by stage, for 2k JPEGs and 16-bit DICOMs.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/single_image.py [--rounds 5] [--threads 1]
        [--sets two_k,originals,dicom16,dicom_j2k] [--gui] [--json OUT]

Part 1 (headless, in this process) replays exactly what the window does for one file, timing each stage:
the image worker's load (read + sha256 + decode at full resolution) and display preparation (12-bit
quantisation, window presets), the first display (window LUT + QPixmap), then the model worker's gate,
preprocess, one forward+backward pass (Grad-CAM), OOD score + calibration, the CAM upsampled to the image
and colourised to RGBA, and the GUI thread's QPixmap of it. ``total`` is their sum per run. Rows marked
"not in total" are alternatives (a forward pass without Grad-CAM, the CLI/PDF blend, a 512-px overlay).

Part 2 (``--gui``) drives the real window offscreen: open the file through the controller and stop the clock
when the prediction slot has put the heatmap on the view and the viewport has repainted.

The torch thread count defaults to the GUI's rule (all cores but one); caches: none exist on this path.
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

STAGES = (
    "decode",
    "display_prep",
    "display_pixmap",
    "gate",
    "preprocess",
    "forward_gradcam",
    "ood_calibrate",
    "heatmap_upsample",
    "overlay_rgba",
    "overlay_pixmap",
)
EXTRA = ("forward_only", "gradcam_head_only", "blend_cli", "overlay_512_total", "proposed_total")
OVERLAY_SIDE = 512  # the reduced-resolution overlay option (see docs/performance.md)


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


def grad_cam_head_only(model: Any, x: Any, layer_name: str) -> Any:
    """The proposed Grad-CAM (not in the app yet): the trunk runs without autograd (weights frozen) and the
    CAM layer's output becomes a leaf, so backward covers only pool + head instead of the whole network.
    Same maps: d(logit)/d(activation) does not depend on anything below the layer."""
    import torch

    layer = model.get_submodule(layer_name)
    store: dict[str, Any] = {}

    def swap(_module: Any, _inputs: Any, output: Any) -> Any:
        store["activation"] = output.detach().requires_grad_(True)
        return store["activation"]

    handle = layer.register_forward_hook(swap)
    try:
        with torch.enable_grad():
            logits, _embedding = model.logits_and_embedding(x)
            (gradient,) = torch.autograd.grad(logits.sum(), store["activation"])
    finally:
        handle.remove()
    activation = store["activation"].detach()
    cam = torch.relu((gradient.mean(dim=(2, 3), keepdim=True) * activation).sum(dim=1))
    return cam / cam.flatten(1).amax(dim=1).clamp_min(1e-12)[:, None, None]


def run_once(path: Path, predictor: Any) -> tuple[dict[str, float], dict[str, float], bool]:
    """One drop, stage by stage, exactly as the GUI's workers and slots do it; returns (stages, extras,
    scored)."""
    import numpy as np
    import torch
    from PySide6.QtGui import QPixmap

    from pneumo_desktop.core.gradcam import grad_cam, upsample_cam
    from pneumo_desktop.core.heatmap_render import blend
    from pneumo_desktop.core.loader import load_image
    from pneumo_desktop.core.predictor import calibrated_probability
    from pneumo_desktop.gui import windowing
    from pneumo_desktop.gui.display_image import DisplayImage
    from pneumo_desktop.gui.heatmap_overlay import heatmap_rgba
    from pneumo_desktop.gui.qimage import gray_qimage, rgba_qimage

    t = common.StageTimer()
    with t("decode"):
        image = load_image(path)
    with t("display_prep"):
        display = DisplayImage.prepare(image)
    with t("display_pixmap"):
        preset = display.presets[0]
        lut = windowing.lookup_table(preset.center, preset.width)
        QPixmap.fromImage(gray_qimage(windowing.apply(display.quantised, lut)))
    with t("gate"):
        early = predictor.gate.check_image(image)
    with t("preprocess"):
        x = predictor.input_tensor([image])
    with t("forward_gradcam"):
        logits, embeddings, cams = grad_cam(predictor.model, x, predictor.card.cam_layer)
    with t("ood_calibrate"):
        rejection, _score = predictor.gate.check(image, embeddings[0])
        calibrated_probability(float(logits[0]), predictor.card.temperature)
    with t("heatmap_upsample"):
        heat = upsample_cam(cams[0], image.shape)
    with t("overlay_rgba"):
        rgba = heatmap_rgba(heat)
    with t("overlay_pixmap"):
        QPixmap.fromImage(rgba_qimage(rgba))
    stages = dict(t.ms)

    extra = common.StageTimer()
    with extra("forward_only"), torch.inference_mode():
        predictor.model.logits_and_embedding(x)
    frozen = [p.requires_grad_(False) for p in predictor.model.parameters()]
    try:
        with extra("gradcam_head_only"):
            fast = grad_cam_head_only(predictor.model, x, predictor.card.cam_layer)
    finally:
        for parameter in frozen:
            parameter.requires_grad_(True)
    if not np.allclose(fast.numpy(), cams[0:1], atol=1e-5):
        raise SystemExit("the head-only Grad-CAM differs from core.gradcam's")
    with extra("blend_cli"):
        blend(image.pixels, heat)
    with extra("overlay_512_total"):
        rows, cols = image.shape
        scale = min(1.0, OVERLAY_SIDE / max(rows, cols))
        small = upsample_cam(cams[0], (max(1, round(rows * scale)), max(1, round(cols * scale))))
        QPixmap.fromImage(rgba_qimage(heatmap_rgba(small)))
    with extra("proposed_total"):
        proposed_pipeline(path, predictor)
    return stages, dict(extra.ms), early is None and rejection is None


def proposed_pipeline(path: Path, predictor: Any) -> None:
    """The same drop with the GUI-side changes proposed in docs/performance.md: the model worker starts as
    soon as the file is decoded, in parallel with the display preparation (two cores, one torch thread);
    Grad-CAM backpropagates through the head only; the overlay is rendered at <= 512 px and scaled by Qt."""
    import threading

    from PySide6.QtGui import QPixmap

    from pneumo_desktop.core.gradcam import upsample_cam
    from pneumo_desktop.core.loader import load_image
    from pneumo_desktop.gui import windowing
    from pneumo_desktop.gui.display_image import DisplayImage
    from pneumo_desktop.gui.heatmap_overlay import heatmap_rgba
    from pneumo_desktop.gui.qimage import gray_qimage, rgba_qimage

    image = load_image(path)
    shown: dict[str, Any] = {}

    def display_worker() -> None:
        display = DisplayImage.prepare(image)
        preset = display.presets[0]
        shown["qimage"] = gray_qimage(
            windowing.apply(display.quantised, windowing.lookup_table(preset.center, preset.width))
        )

    worker = threading.Thread(target=display_worker)
    worker.start()
    predictor.gate.check_image(image)
    x = predictor.input_tensor([image])
    frozen = [p.requires_grad_(False) for p in predictor.model.parameters()]
    try:
        cam = grad_cam_head_only(predictor.model, x, predictor.card.cam_layer)[0].numpy()
    finally:
        for parameter in frozen:
            parameter.requires_grad_(True)
    rows, cols = image.shape
    scale = min(1.0, OVERLAY_SIDE / max(rows, cols))
    rgba = heatmap_rgba(upsample_cam(cam, (max(1, round(rows * scale)), max(1, round(cols * scale)))))
    worker.join()
    QPixmap.fromImage(shown["qimage"])  # the GUI thread's two pixmaps
    QPixmap.fromImage(rgba_qimage(rgba))


def headless(sets: dict[str, list[Path]], rounds: int) -> dict[str, Any]:
    from pneumo_desktop.core.predictor import Predictor

    predictor = Predictor.load(common.model_dir())
    for path in next(iter(sets.values()))[:2]:  # warm-up: first-call allocations, lazy imports
        run_once(path, predictor)
    out: dict[str, Any] = {}
    for name, files in sets.items():
        per_stage: dict[str, list[float]] = {s: [] for s in (*STAGES, *EXTRA, "total")}
        scored = 0
        for _ in range(rounds):
            for path in files:
                stages, extra, ok = run_once(path, predictor)
                scored += ok
                for key, value in (*stages.items(), *extra.items()):
                    per_stage[key].append(value)
                per_stage["total"].append(sum(stages.values()))
        out[name] = {
            "files": len(files),
            "rounds": rounds,
            "scored_not_rejected": scored,
            "stages": {k: common.spread(v) for k, v in per_stage.items()},
        }
    return out


def gui_end_to_end(sets: dict[str, list[Path]], rounds: int) -> dict[str, Any]:
    """The real window: controller.show_file -> prediction slot done and viewport repainted."""
    from PySide6.QtWidgets import QApplication

    from pneumo_desktop import app

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    window = app.build()
    window.resize(1400, 900)
    window.show()
    controller = window.controller
    controller.load_model()
    _spin(qapp, lambda: controller.session.card is not None or controller.session.error is not None, 120)
    if controller.session.error is not None:
        return {"error": str(controller.session.error)}
    done: dict[str, float] = {}
    controller.prediction_ready.connect(lambda _r: done.__setitem__("t", time.perf_counter()))
    controller.prediction_failed.connect(lambda _m: done.__setitem__("t", time.perf_counter()))
    controller.image_failed.connect(lambda _p, _m: done.__setitem__("t", time.perf_counter()))
    out: dict[str, Any] = {}
    for name, files in sets.items():
        samples: list[float] = []
        for r in range(rounds + 1):  # round 0 warms up
            for path in files:
                done.clear()
                started = time.perf_counter()
                controller.show_file(path)
                _spin(qapp, lambda: "t" in done, 60)
                window.view.viewport().repaint()  # the heatmap actually painted, not just set
                if r:
                    samples.append((time.perf_counter() - started) * 1000.0)
        out[name] = common.spread(samples)
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
    parser.add_argument("--threads", default="gui", help="torch threads: a number, or 'gui' (cores - 1)")
    parser.add_argument("--sets", default="two_k,originals,dicom16,dicom_j2k")
    parser.add_argument("--gui", action="store_true", help="also time the real window (offscreen)")
    parser.add_argument("--quick", action="store_true", help="two files per set, one round (debugging)")
    parser.add_argument("--json")
    args = parser.parse_args()
    common.isolate_home()
    rounds = 1 if args.quick else args.rounds
    sets = input_sets(args.sets.split(","), args.quick)

    import torch
    from PySide6.QtWidgets import QApplication

    threads = max(1, (os.cpu_count() or 2) - 1) if args.threads == "gui" else int(args.threads)
    torch.set_num_threads(threads)
    QApplication.instance() or QApplication(sys.argv[:1])
    result: dict[str, Any] = {
        "machine": common.machine(),
        "model": common.model_identity(),
        "threads": threads,
        "headless": headless(sets, rounds),
    }
    if args.gui:
        result["gui"] = gui_end_to_end(sets, rounds)
    report(result)
    common.write_json(args.json, result)


def report(result: dict[str, Any]) -> None:
    print(f"# single image, drop -> result + heatmap  (torch threads {result['threads']}, {result['model']})")
    print(f"machine: {result['machine']}")
    for name, data in result["headless"].items():
        print(
            f"\n## {name}: {data['files']} files x {data['rounds']} rounds "
            f"({data['scored_not_rejected']} runs scored, the rest rejected by the gate)"
        )
        for stage, s in data["stages"].items():
            note = "  (not in total)" if stage in EXTRA else ""
            print(f"  {stage:18s} {common.fmt_spread(s, digits=2)}{note}")
    for name, s in result.get("gui", {}).items():
        print(f"GUI end to end, {name}: {common.fmt_spread(s) if isinstance(s, dict) else s}")


if __name__ == "__main__":
    main()
