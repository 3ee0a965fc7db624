"""The headless commands ``predict``, ``report`` and ``listen``: argument parsing, logging and the exit codes;
each command is its own module (cli/predict.py, cli/report.py, listen_cli.py), the scoring is core.scoring's
and the PDFs are report/'s. Records go to stdout, messages to stderr. Never imports Qt.

Exit codes: 0 every input got a result (a gate rejection is a result), 1 some inputs failed or could not be
reached (the others are still reported), 2 usage error or no inputs, 3 the model could not be loaded, 5 the
audit log could not be written (a full disk: the results are valid, the audit trail misses some).
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pneumo_desktop import __version__

if TYPE_CHECKING:
    from pneumo_desktop.core.predictor import Predictor

# 4 is the window's (the system libraries Qt needs are missing: launcher.py).
EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_MODEL, EXIT_AUDIT = 0, 1, 2, 3, 5


def load_predictor() -> Predictor | None:
    """The bundled model, or None after logging why it could not be loaded (the caller exits EXIT_MODEL).
    Imported here, once the arguments are good: ONNX Runtime is the slow part of a command's start."""
    from pneumo_desktop.core.errors import ModelLoadError
    from pneumo_desktop.core.predictor import Predictor

    try:
        return Predictor.load()
    except ModelLoadError as exc:
        logging.getLogger("pneumo_desktop").error("the model could not be loaded: %s", exc)
        return None

PROG = "pneumo-desktop"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"expected a TCP port (1-65535), got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Assistive pneumonia probability for chest X-rays (does not diagnose)."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    predict = commands.add_parser(
        "predict", help="score image files and folders; one record per file on stdout",
        description="Score image files and folders (walked recursively; links out of a folder are not "
                    "followed). Exit status: 0 every file got a result, 1 some files failed or could not be "
                    "reached, 2 usage error or no image files, 3 the model could not be loaded, 5 the audit "
                    "log could not be written.",
    )
    predict.add_argument("paths", nargs="+", metavar="PATH", help="image or DICOM files, or folders")
    predict.add_argument("--format", choices=("table", "jsonl", "csv"), default="table",
                         help="output format (default: table)")
    predict.add_argument("--heatmap-dir", type=Path, metavar="DIR",
                         help="write a Grad-CAM overlay PNG per scored image into DIR (not an input folder)")
    predict.add_argument("--force", action="store_true", help="overwrite existing heatmap files")
    predict.add_argument("--batch-size", type=_positive_int, default=16, metavar="N",
                         help="images per forward pass without heatmaps (default: 16)")
    _add_quiet(predict)

    report = commands.add_parser(
        "report", help="write a PDF report: a file gives the single report, a folder the batch summary",
        description="Write a PDF report. A file gives the single-image report, a folder the batch summary. "
                    "Without -o the report goes into the current folder under a suggested name.",
    )
    report.add_argument("path", metavar="PATH", help="an image or DICOM file, or a folder")
    report.add_argument("-o", "--output", type=Path, metavar="OUT.pdf", help="where to write the PDF")
    report.add_argument("--force", action="store_true", help="overwrite an existing PDF")
    report.add_argument("--hide-phi", action="store_true",
                        help="leave patient identifiers out of the report, its metadata and its name")
    report.add_argument("--dicom", type=Path, metavar="OUT_DIR",
                        help="also write the results as DICOM (PDF, structured report, heatmap capture) into "
                             "OUT_DIR, in the source's study; DICOM inputs only, not with --hide-phi")
    report.add_argument("--prior", metavar="PRIOR",
                        help="an earlier film of the same patient: one PDF with both films side by side (DICOM: "
                             "same Patient ID, earlier study date; PNG/JPEG: your choice, marked as unchecked)")
    report.add_argument("--batch-size", type=_positive_int, default=16, metavar="N", help=argparse.SUPPRESS)
    _add_quiet(report)

    listen = commands.add_parser(
        "listen", help="run a DICOM node that scores the films it receives (opt-in network use)",
        description="Receive films by DICOM C-STORE, score each, and write its record (stdout, JSON lines), "
                    "PDF report and DICOM results into --out. Listens on 127.0.0.1 unless --bind says "
                    "otherwise; only the AE titles given with --allow may send. Stop with Ctrl+C or SIGTERM.",
    )
    listen.add_argument("--port", type=_port, required=True, help="TCP port to listen on")
    listen.add_argument("--allow", action="append", required=True, metavar="AE_TITLE",
                        help="a calling AE title allowed to send (repeat for several)")
    listen.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="where reports and results go; a film received again (the same SOP instance) "
                             "replaces its earlier report and results: the newest wins")
    listen.add_argument("--ae-title", default="PNEUMO_DESKTOP", help="this node's AE title")
    listen.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS",
                        help="interface to listen on (default 127.0.0.1: this machine only)")
    listen.add_argument("--inbox", type=Path, metavar="DIR", help="where received films are kept "
                        "(default: the per-user state folder's inbox)")
    listen.add_argument("--send-results-to", metavar="AE@HOST:PORT",
                        help="C-STORE each film's DICOM results to this node")
    _add_quiet(listen)
    return parser


def _add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="only report problems on stderr")


class _StderrHandler(logging.StreamHandler):
    """Looks up sys.stderr at each message so a redirected stderr (tests, pipes) is honoured."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.setStream(sys.stderr)
        super().emit(record)

    def format(self, record: logging.LogRecord) -> str:
        # Messages quote file names, and a name may hold a newline (a forged summary line) or ESC/OSC
        # sequences (clear screen, retitle the window): one message is one visible line, controls escaped.
        from pneumo_desktop.core.records import terminal_text

        return terminal_text(super().format(record))


def _utf8_stdout(fmt: str) -> None:
    # JSON lines and CSV are UTF-8 by contract; a Windows pipe would otherwise use the ANSI code page
    # and fail on the first Chinese file name. A table is for reading: replace what cannot be shown.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        try:
            if fmt in ("jsonl", "csv"):
                reconfigure(encoding="utf-8")
            else:
                reconfigure(errors="replace")
        except (ValueError, OSError):
            pass


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse exits 2 on bad usage and 0 for --help
        return int(exc.code) if isinstance(exc.code, int) else 2
    package_log = logging.getLogger("pneumo_desktop")
    handler, old_level = _StderrHandler(), package_log.level
    handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    package_log.addHandler(handler)
    package_log.setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        if args.command == "predict":
            from pneumo_desktop.cli.predict import run_predict

            _utf8_stdout(args.format)
            return run_predict(args.paths, out=sys.stdout, fmt=args.format, heatmap_dir=args.heatmap_dir,
                               force=args.force, batch_size=args.batch_size)
        if args.command == "listen":
            from pneumo_desktop.listen_cli import run_listen

            _utf8_stdout("jsonl")
            return run_listen(port=args.port, allowed=args.allow, out_dir=args.out, stdout=sys.stdout,
                              ae_title=args.ae_title, bind=args.bind, inbox=args.inbox,
                              send_to=args.send_results_to)
        from pneumo_desktop.cli.report import run_report

        return run_report(args.path, out=args.output, force=args.force, hide_phi=args.hide_phi,
                          batch_size=args.batch_size, dicom_dir=args.dicom, prior=args.prior)
    except KeyboardInterrupt:
        package_log.error("interrupted")
        return 130
    except BrokenPipeError:
        # "pneumo-desktop predict ... | head": the reader left early. Point stdout at devnull so the
        # interpreter's final flush does not raise again, and say nothing more.
        _silence_stdout()
        return 1
    finally:
        package_log.removeHandler(handler)
        package_log.setLevel(old_level)
