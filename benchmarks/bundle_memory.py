"""Peak memory (RSS) of the *built bundle's* window: one 2k x 2k film with its heatmap on screen, then a
1,000-file set in the study list (the issue-16 goal: ≤ 300 MB), measured as a user runs it.

    .venv/bin/python benchmarks/bundle_memory.py [BUNDLE_DIR] [--platform xcb|offscreen]

The bundle is started with the 2k film and the 1,000-file folder (one set: the film is shown, every file is
scored into the list); the figure is the process's VmHWM once the audit log holds a line for every file.
benchmarks/memory.py measures the same steps in the source install, in process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "installer"))

from smoke_common import BUNDLE  # noqa: E402
from xvfb import virtual_display  # noqa: E402

from benchmarks import _common as common  # noqa: E402

MIB = 2**20


def _status_kib(pid: int) -> dict[str, int]:
    text = Path(f"/proc/{pid}/status").read_text()
    return {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines() if line.startswith(("VmHWM", "VmRSS"))}


def measure(exe: Path, film: Path, folder: Path, display: str | None, expected: int) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="pneumo-bundle-mem-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PNEUMO_DESKTOP_", "QT_"))}
    env.update(HOME=str(home / "home"), PNEUMO_DESKTOP_HOME=str(home / "app"), TMPDIR=str(home / "tmp"),
               QT_QPA_PLATFORM="xcb" if display else "offscreen")
    if display:
        env["DISPLAY"] = display
    for sub in ("home", "app", "tmp"):
        (home / sub).mkdir()
    audit = home / "app" / "state" / "audit.jsonl"
    started = time.monotonic()
    proc = subprocess.Popen([str(exe), str(film), str(folder)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    first = None
    try:
        while time.monotonic() - started < 600:
            if proc.poll() is not None:
                raise SystemExit(f"the bundle exited with {proc.returncode}")
            lines = len(audit.read_bytes().splitlines()) if audit.is_file() else 0
            if first is None and lines >= 1:
                first = {"s": time.monotonic() - started, **_status_kib(proc.pid)}
            if lines >= expected:
                time.sleep(1.0)  # the list's last thumbnails
                done = {"s": time.monotonic() - started, **_status_kib(proc.pid)}
                break
            time.sleep(0.05)
        else:
            raise SystemExit(f"only {lines} of {expected} audit lines after 600 s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"first_result_s": first["s"] if first else float("nan"),
            "rss_at_first_result_mib": (first or {}).get("VmRSS", 0) / 1024,
            "batch_done_s": done["s"], "rss_after_batch_mib": done["VmRSS"] / 1024,
            "peak_rss_mib": done["VmHWM"] / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", nargs="?", type=Path,
                        default=BUNDLE)
    parser.add_argument("--platform", choices=("xcb", "offscreen"), default="xcb")
    args = parser.parse_args()
    exe = args.bundle.resolve() / "pneumo-desktop"
    folder = common.thousand_set()
    film = common.two_k_set()[0]
    expected = sum(p.suffix.lower() in (".jpg", ".jpeg", ".png", ".dcm") for p in folder.iterdir()) + 1
    print(f"machine: {common.machine()}")
    if args.platform == "xcb":
        with virtual_display() as display:
            result = measure(exe, film, folder, display, expected)
    else:
        result = measure(exe, film, folder, None, expected)
    print(f"bundle {args.bundle.name} ({args.platform}): first result after {result['first_result_s']:.2f} s at "
          f"{result['rss_at_first_result_mib']:.0f} MiB; {expected} files scored after {result['batch_done_s']:.1f} s; "
          f"RSS {result['rss_after_batch_mib']:.0f} MiB, peak {result['peak_rss_mib']:.0f} MiB "
          f"({result['peak_rss_mib'] * MIB / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
