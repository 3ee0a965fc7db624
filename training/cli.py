"""``pneumo-train``: fit, evaluate, export (weights and the runtime export the app runs)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path

MISSING_EXTRA = (
    "pneumo-train needs the training extra, which is not installed ({missing}).\n"
    "Install it with:  pip install -e '.[train]'   (or: pip install 'pneumo-desktop[train]')"
)


def _check_extra() -> str | None:
    missing = []
    for module, name in (("sklearn", "scikit-learn"), ("yaml", "PyYAML"), ("matplotlib", "matplotlib"),
                         ("torch", "torch"), ("onnx", "onnx")):
        try:
            __import__(module)
        except ImportError:
            missing.append(name)
    return ", ".join(missing) or None


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pneumo-train", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="train a model from scratch")
    fit.add_argument("--data", type=Path,
                     help="the Kermany set: <DIR>/train/{NORMAL,PNEUMONIA}/ (manifest.csv used when present; default: "
                          "$PNEUMO_DATA/kermany, then ../shared/data/kermany)")
    fit.add_argument("--config", type=Path, help="YAML file overriding training/config.py DEFAULTS")
    fit.add_argument("--out", type=Path, help="run folder (default: runs/<timestamp>); an existing one resumes")
    fit.add_argument("--cache-dir", type=Path, help="decoded-image cache (default: <out>/../cache)")
    fit.add_argument("--epochs", type=int)
    fit.add_argument("--limit", type=int, help="use a label-balanced sample of N training images (smoke runs)")
    fit.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                     help="auto: CUDA when present, else CPU")
    fit.add_argument("--stop-after-epoch", type=int, help=argparse.SUPPRESS)
    ev = sub.add_parser("evaluate", help="evaluate a model card's weights on a split")
    ev.add_argument("--card", type=Path, required=True, help="model_card.json (weights beside it)")
    ev.add_argument("--data", type=Path, help="the Kermany set (default: $PNEUMO_DATA/kermany, then ../shared/data/kermany; see training/README.md)")
    ev.add_argument("--split", choices=["val", "test"], required=True)
    ev.add_argument("--out", type=Path, help="folder for metrics JSON and plots (default: beside the card)")
    ev.add_argument("--write-card", action="store_true", help="store the test metrics in the card (test split)")
    ev.add_argument("--ledger", type=Path, default=Path("models/test_ledger.csv"),
                    help="append (date, weights sha256, metrics) here for every test-split read")
    asm = sub.add_parser("assemble", help="build one ensemble model from members trained by training/sweep.py")
    asm.add_argument("--sweep", type=Path, required=True, help="folder with states*.pt and summaries.json")
    asm.add_argument("--members", required=True, help="comma-separated candidate names")
    asm.add_argument("--data", type=Path, help="the Kermany set (default: $PNEUMO_DATA/kermany, then ../shared/data/kermany; see training/README.md)")
    asm.add_argument("--out", type=Path, required=True, help="run folder; the model goes to <out>/model")
    asm.add_argument("--cache-dir", type=Path)
    asm.add_argument("--version", default="2.0.0")
    cal = sub.add_parser("calibrate", help="refit temperature and threshold on a site's labelled films")
    cal.add_argument("--card", type=Path, required=True, help="model_card.json (weights beside it)")
    cal.add_argument("--data", type=Path, required=True, help="site folder: <DIR>/{NORMAL,PNEUMONIA}/ (DICOM or raster)")
    cal.add_argument("--out", type=Path, required=True, help="empty folder for the site card and its weights file")
    cal.add_argument("--site-name", required=True)
    cal.add_argument("--target-sensitivity", type=float, default=0.95)
    rg = sub.add_parser("refit-gate", help="refit the gate of an existing model (weights unchanged)")
    rg.add_argument("--model-dir", type=Path, required=True)
    rg.add_argument("--data", type=Path, help="the Kermany set (default: $PNEUMO_DATA/kermany, then ../shared/data/kermany; see training/README.md)")
    rg.add_argument("--cache-dir", type=Path)
    ex = sub.add_parser("export", help="copy a finished run's model into models/, with its runtime (ONNX) export")
    ex.add_argument("run_dir", type=Path)
    ex.add_argument("--to", type=Path, required=True)
    ex.add_argument("--force", action="store_true", help="overwrite an existing model")
    eo = sub.add_parser("export-onnx", help="(re)write the runtime (ONNX) export the app runs, beside the weights")
    eo.add_argument("--model-dir", type=Path, required=True, help="folder with model_card.json and its weights")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    missing = _check_extra()
    if missing:
        print(MISSING_EXTRA.format(missing=missing), file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.command in ("fit", "evaluate", "assemble", "refit-gate") and args.data is None:
        from training.data_root import KERMANY_MISSING, kermany_dir

        args.data = kermany_dir()
        if args.data is None:
            print(f"pneumo-train: {KERMANY_MISSING} (or pass --data DIR)", file=sys.stderr)
            return 2
    if args.command == "fit":
        from training.config import load_config
        from training.fit import fit

        config = load_config(args.config, {"epochs": args.epochs, "limit": args.limit})
        out = args.out or Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
        cache = args.cache_dir or out.parent / "cache"
        fit(args.data, config, out, cache, stop_after_epoch=args.stop_after_epoch, device_name=args.device)
        return 0
    if args.command == "evaluate":
        from training.evaluate import evaluate

        return evaluate(args.card, args.data, args.split, args.out, args.write_card, args.ledger)
    if args.command == "refit-gate":
        from training.card import refit_gate
        from training.card_markdown import write_model_card_md

        refit_gate(args.model_dir, args.data, args.cache_dir)
        write_model_card_md(args.model_dir)
        return 0
    if args.command == "calibrate":
        from training.site_calibration import main as calibrate_main

        return calibrate_main(args.card, args.data, args.out, args.site_name, args.target_sensitivity)
    if args.command == "assemble":
        from training.assemble import assemble

        assemble(args.sweep, args.members.split(","), args.data, args.out, args.cache_dir, args.version)
        return 0
    if args.command == "export-onnx":
        from training.export import export_onnx

        return export_onnx(args.model_dir)
    from training.export import export

    return export(args.run_dir, args.to, args.force)


if __name__ == "__main__":
    raise SystemExit(main())
