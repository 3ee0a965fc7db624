"""Train several candidate recipes at once on one CUDA device, each selected on the shifted validation.

Optional tooling for a lent GPU (nothing in the project needs one): ``pack`` bundles the training images,
decoded by the app's own loader at model size, into one compact file that travels to the GPU machine;
``run`` trains one candidate from it; the shell loop in docs/training_gpu.md runs them side by side.

    python -m training.sweep pack --data ../shared/data/kermany --out .pack/kermany224.npz
    python -m training.sweep run --pack .pack/kermany224.npz --candidate v1_orient --out /tmp/sweep
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training import data as data_mod
from training.config import DEFAULTS
from training.engine import forward_all, train_one_epoch
from training.network import build_network

FILM_FEATURES = ("border_p", "label_p", "unsharp_p")


def _arch(widths: list[int], blocks: list[int] | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {"widths": widths, "dropout": 0.2, "orientation_classes": 8}
    if blocks:
        args["blocks"] = blocks
    return {"name": "pneumo_resnet", "arguments": args}


CANDIDATES: dict[str, dict[str, Any]] = {
    "v1_orient": {"epochs": 30},
    "v1_orient_noff": {"epochs": 30, "no_film_features": True},
    "v1_orient_ls": {"epochs": 30, "label_smoothing": 0.1},
    "v1_orient_e60": {"epochs": 60},
    "v1_orient_s2": {"epochs": 30, "seed": 2},
    "v1_orient_s3": {"epochs": 30, "seed": 3},
    "b1221": {"epochs": 30, "architecture": _arch([24, 48, 96, 192], [1, 2, 2, 1])},
    "b1221_s2": {"epochs": 30, "seed": 2, "architecture": _arch([24, 48, 96, 192], [1, 2, 2, 1])},
    "b1221_s3": {"epochs": 30, "seed": 3, "architecture": _arch([24, 48, 96, 192], [1, 2, 2, 1])},
    "b1221_ls": {"epochs": 30, "label_smoothing": 0.1, "architecture": _arch([24, 48, 96, 192], [1, 2, 2, 1])},
    "w32": {"epochs": 30, "architecture": _arch([32, 64, 128, 256])},
    "w32_b1221": {"epochs": 30, "architecture": _arch([32, 64, 128, 256], [1, 2, 2, 1])},
}


def candidate_config(name: str) -> dict[str, Any]:
    config = copy.deepcopy(DEFAULTS)  # the v2 recipe: orientation head and film features
    spec = copy.deepcopy(CANDIDATES[name])
    if spec.pop("no_film_features", False):
        config["augment"].update({key: 0.0 for key in FILM_FEATURES})
    config.update(spec)
    return config


def pack(data_root: Path, out: Path, quality: int = 88) -> None:
    """Training images (decoded by the app's loader, squashed to 224, JPEG q88) + the validation-pool
    originals' source files (for the shifted variants, which start from the source resolution)."""
    from PIL import Image

    items = data_mod.read_items(data_root, "train")
    pixels, _ = data_mod.decode_all(data_root, items, int(DEFAULTS["size"]), None)
    blobs = []
    for square in pixels:
        buffer = io.BytesIO()
        Image.fromarray(np.clip(np.rint(square.astype(np.float32) * 255), 0, 255).astype(np.uint8)).save(
            buffer, "JPEG", quality=quality)
        blobs.append(buffer.getvalue())
    _, val_items, _ = data_mod.patient_split(items, float(DEFAULTS["val_fraction"]), int(DEFAULTS["seed"]))
    originals = [i for i in val_items if i.source_kind == "original"]
    sources = [(Path(data_root) / i.relpath).read_bytes() for i in originals]
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, relpath=np.array([i.relpath for i in items]), label=np.array([i.label for i in items]),
             patient=np.array([i.patient_id for i in items]), kind=np.array([i.source_kind for i in items]),
             jpeg=np.frombuffer(b"".join(blobs), np.uint8), jpeg_len=np.array([len(b) for b in blobs]),
             src_relpath=np.array([i.relpath for i in originals]),
             src=np.frombuffer(b"".join(sources), np.uint8), src_len=np.array([len(b) for b in sources]))
    print(f"{out}: {len(items)} images, {len(originals)} originals, {out.stat().st_size / 1e6:.1f} MB")


def _split(blob: np.ndarray, lengths: np.ndarray) -> list[bytes]:
    ends = np.cumsum(lengths)
    return [blob[e - n:e].tobytes() for e, n in zip(ends, lengths, strict=True)]


def unpack(path: Path, workdir: Path) -> tuple[list[data_mod.Item], np.ndarray, Path]:
    from PIL import Image

    z = np.load(path)
    items = [data_mod.Item(str(r), "train", int(lab), str(p), str(k))
             for r, lab, p, k in zip(z["relpath"], z["label"], z["patient"], z["kind"], strict=True)]
    pixels = np.stack([np.asarray(Image.open(io.BytesIO(b)), np.float32) / 255.0
                       for b in _split(z["jpeg"], z["jpeg_len"])]).astype(np.float16)
    for rel, blob in zip(z["src_relpath"], _split(z["src"], z["src_len"]), strict=True):
        target = workdir / str(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)
    return items, pixels, workdir


def prepare_shifted(pack_path: Path, cache: Path) -> None:
    """Build the shifted-validation cache once, before candidates start side by side."""
    from training.selection import build_shifted

    workdir = Path(tempfile.mkdtemp(prefix="sweep_"))
    items, _, src_root = unpack(pack_path, workdir)
    _, val_items, _ = data_mod.patient_split(items, float(DEFAULTS["val_fraction"]), int(DEFAULTS["seed"]))
    originals = [i for i in val_items if i.source_kind == "original"]
    shifted = build_shifted(src_root, originals, int(DEFAULTS["size"]), threads=8)
    arrays = {k: v[0] for k, v in shifted.items()} | {k + "__y": v[1] for k, v in shifted.items()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **arrays)
    print(f"{cache}: {len(shifted)} variants of {len(originals)} validation originals", flush=True)


def run(pack_path: Path, name: str, out: Path, device_name: str, shifted_cache: Path | None,
        epochs_override: int | None = None, limit: int | None = None) -> None:
    from training.selection import build_shifted, selection_metrics

    device = torch.device(device_name)
    torch.backends.cudnn.benchmark = True
    config = candidate_config(name)
    if epochs_override:
        config["epochs"] = epochs_override
    seed = int(config["seed"])
    workdir = Path(tempfile.mkdtemp(prefix="sweep_"))
    items, pixels, src_root = unpack(pack_path, workdir)
    index = {it.relpath: k for k, it in enumerate(items)}
    train_items, val_items, _ = data_mod.patient_split(items, float(config["val_fraction"]), int(DEFAULTS["seed"]))
    if limit:
        train_items = train_items[::max(len(train_items) // limit, 1)]
    train_px = pixels[[index[i.relpath] for i in train_items]]
    val_px = pixels[[index[i.relpath] for i in val_items]]
    y_train = np.array([i.label for i in train_items])
    y_val = np.array([i.label for i in val_items])
    clean_original = np.array([i.source_kind == "original" for i in val_items])
    originals = [i for i in val_items if i.source_kind == "original"]
    if shifted_cache is not None and shifted_cache.exists():
        with np.load(shifted_cache) as z:
            shifted = {k: (z[k], z[k + "__y"]) for k in z.files if not k.endswith("__y")}
    else:
        shifted = build_shifted(src_root, originals, int(config["size"]), threads=8)
        if shifted_cache is not None:
            arrays = {k: v[0] for k, v in shifted.items()} | {k + "__y": v[1] for k, v in shifted.items()}
            np.savez(shifted_cache.with_suffix(".tmp.npz"), **arrays)
            shifted_cache.with_suffix(".tmp.npz").replace(shifted_cache)

    torch.manual_seed(seed)
    model = build_network(config["architecture"]["name"], **dict(config["architecture"]["arguments"]))
    model = model.to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"])
    gen = torch.Generator().manual_seed(seed)
    pos_weight = float((y_train == 0).sum() / max((y_train == 1).sum(), 1))
    epochs, batch = int(config["epochs"]), int(config["batch_size"])
    total = epochs * (len(train_items) // batch)
    step, best, history = 0, -1.0, []
    out.mkdir(parents=True, exist_ok=True)
    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = torch.randperm(len(train_items), generator=gen)
        loss, step = train_one_epoch(model, optimizer, train_px, y_train, order, config, gen, step, total,
                                     pos_weight, True, device=device)
        metrics = selection_metrics(model, val_px, y_val, shifted, clean_original, device)
        metrics.update(epoch=epoch + 1, loss=loss, seconds=time.perf_counter() - t0)
        history.append(metrics)
        print(f"{name} epoch {epoch + 1} loss {loss:.4f} val_auc {metrics['val_auc']:.4f} "
              f"held_auc {metrics['held_out_auc']:.4f} held_spec {metrics['held_out_specificity']:.3f} "
              f"every_auc {metrics['everyday_auc']:.4f} {metrics['seconds']:.1f}s", flush=True)
        if metrics["selection_score"] > best:
            best = metrics["selection_score"]
            torch.save({k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, out / "best.pt")
        # Written every epoch, so a candidate stopped by the lease's time limit still reports its history.
        (out / "summary.json").write_text(json.dumps(
            {"name": name, "config": config, "history": history, "best_selection": best}, default=float))
    best_state = torch.load(out / "best.pt", weights_only=True)
    model.load_state_dict(best_state)
    accuracy = []
    for o in range(8):
        _, _, probs = forward_all(model, val_px[clean_original], device=device, orientation=o)
        assert probs is not None
        accuracy.append(float((probs.argmax(1) == o).mean()))
    summary = {"name": name, "config": config, "history": history, "best_selection": best,
               "orientation_accuracy": accuracy}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    print(f"{name} done: best held_auc {best:.4f} orientation acc {np.round(accuracy, 3).tolist()}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.sweep")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("run")
    r.add_argument("--pack", type=Path, required=True)
    r.add_argument("--candidate", choices=sorted(CANDIDATES), required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    r.add_argument("--shifted-cache", type=Path)
    r.add_argument("--epochs", type=int, help="override the candidate's epochs (smoke runs)")
    r.add_argument("--limit", type=int, help="use about N training images (smoke runs)")
    r.add_argument("--prepare-only", action="store_true", help="build --shifted-cache and stop")
    args = parser.parse_args(argv)
    if args.command == "pack":
        pack(args.data, args.out)
    elif args.prepare_only:
        prepare_shifted(args.pack, args.shifted_cache)
    else:
        run(args.pack, args.candidate, args.out / args.candidate, args.device, args.shifted_cache,
            args.epochs, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
