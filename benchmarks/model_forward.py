"""Forward time of the shipped model (ensemble included) at batch 1 and 16, Grad-CAM at batch 1, and the
gate's own cost per image (distance + orientation call on the embedding the forward pass already made).

    python benchmarks/model_forward.py [--threads 2] [--repeats 50]

Prints medians with p10-p90 in ms. Issue 11's budget: <= 10 ms forward at batch 1 on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    import torch

    from pneumo_desktop.core.gradcam import grad_cam
    from pneumo_desktop.core.predictor import Predictor

    torch.set_num_threads(args.threads)
    predictor = Predictor.load()
    card = predictor.card
    print(f"model {card.display_name} ({card.architecture['name']}), torch {torch.__version__}, "
          f"{args.threads} threads, {platform.processor() or platform.machine()}")
    for batch in (1, 16):
        x = torch.randn(batch, 1, card.input_size, card.input_size).contiguous(memory_format=torch.channels_last)

        def forward(x: torch.Tensor = x) -> None:
            with torch.inference_mode():
                predictor.model.outputs(x)

        med, lo, hi = timed(forward, args.repeats)
        print(f"forward, batch {batch:2d}: {med:6.2f} ms (p10 {lo:.2f}, p90 {hi:.2f}); {med / batch:.2f} ms per image")
    x1 = torch.randn(1, 1, card.input_size, card.input_size).contiguous(memory_format=torch.channels_last)
    med, lo, hi = timed(lambda: grad_cam(predictor.model, x1, card.cam_layers), args.repeats)
    print(f"forward + Grad-CAM, batch 1: {med:6.2f} ms (p10 {lo:.2f}, p90 {hi:.2f})")
    with torch.inference_mode():
        _, embedding, orientation = predictor.model.outputs(x1)

    def gate() -> None:
        predictor.gate.distance_check(predictor.gate.ood_score(embedding[0]))
        if orientation is not None:
            predictor.gate.orientation(orientation[0])

    med, lo, hi = timed(gate, args.repeats * 4)
    print(f"gate on the embedding (distance + orientation call): {med:6.3f} ms (p10 {lo:.3f}, p90 {hi:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
