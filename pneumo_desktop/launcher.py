"""The ``pneumo-desktop`` entry point: ``--version``, the headless ``predict``/``report`` commands, or the
window (``pneumo-desktop [PATH...]``).

Qt and the model runtime (ONNX Runtime) are imported only by the branch that needs them, so ``--version``
and the headless commands start without Qt, and the window can paint before the model loads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from pneumo_desktop import __version__

PROG = "pneumo-desktop"
HEADLESS_COMMANDS = ("predict", "report", "listen")
EXIT_NO_DISPLAY = 4  # the window cannot open on this system (missing libraries); told in one line
USAGE = f"""usage: {PROG} [PATH ...]            open the window (and these files or folders)
       {PROG} predict PATH ... [options]   score files headlessly ({PROG} predict --help)
       {PROG} report PATH [-o OUT.pdf]     write a PDF report ({PROG} report --help)
       {PROG} listen --port N --allow AE --out DIR   score films sent by DICOM ({PROG} listen --help)
       {PROG} --version
"""


def version_text() -> str:
    """The app version and the bundled model's identity, read from the card alone (no model runtime)."""
    from pneumo_desktop import paths
    from pneumo_desktop.core.errors import ModelLoadError
    from pneumo_desktop.core.model_card import CARD_FILENAME, ModelCard

    lines = [f"{PROG} {__version__}"]
    try:
        card = ModelCard.read(paths.models_dir() / CARD_FILENAME)
    except ModelLoadError as exc:
        lines.append(f"model: not available ({exc})")
    else:
        lines.append(f"model: {card.display_name}")
        lines.append(f"model fingerprint (weights + card): {card.fingerprint}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in HEADLESS_COMMANDS:
        from pneumo_desktop import cli

        return cli.main(args)
    if args in (["--version"], ["-V"]):
        print(version_text())
        return 0
    if args and args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0
    if args and args[0] == "--":
        args = args[1:]
    elif any(a.startswith("-") for a in args):
        bad = next(a for a in args if a.startswith("-"))
        print(USAGE, end="", file=sys.stderr)
        print(f"{PROG}: error: unknown option {bad} (put -- before a file name that starts with '-')",
              file=sys.stderr)
        return 2
    from pneumo_desktop import display_check

    problem = display_check.problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
    from pneumo_desktop import app  # imports Qt: only when the window is wanted

    return int(app.main(args) or 0)


def run() -> NoReturn:
    """What the console script, ``python -m pneumo_desktop`` and the frozen executables run.

    A headless command ends with ``os._exit`` once the standard streams are flushed: everything it wrote is
    closed by then (records go to stdout, audit lines are closed per write, reports and heatmaps are atomic
    renames), and the interpreter's own teardown with the model stack loaded took ~0.4 s (with torch, before
    the ONNX runtime), 6 % of scoring the 624-image test split. The window exits normally (Qt objects must be torn down in order).
    """
    args = sys.argv[1:]
    code = main(args)
    if args and args[0] in HEADLESS_COMMANDS:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed pipe ("| head") changes nothing now
                stream.flush()
        logging.shutdown()
        os._exit(code)
    sys.exit(code)
