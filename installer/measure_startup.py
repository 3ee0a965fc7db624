"""Time from launching the bundle to its window being on screen, under a real X server (Xvfb).

    python installer/measure_startup.py [BUNDLE_DIR] [--runs 5] [--drop-caches]

Each run gets a fresh HOME and PNEUMO_DESKTOP_HOME (a first start for the user: no settings, no font
cache). "mapped" is when X reports the main window viewable; "logged" is the app's own "started" log
line, written right after window.show(). --drop-caches (root only) empties the page cache before each
run, so the 600 MB of libraries are read from disk: a cold start after boot. Needs Xvfb and xwininfo
(Debian: xvfb x11-utils). Standard library only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from smoke_common import BUNDLE  # noqa: E402
from xvfb import XvfbUnavailable, mapped_main_window, virtual_display  # noqa: E402


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far: unlike wall time, not inflated by a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(exe: Path, display: str, drop_caches: bool, nice: int) -> tuple[float, float | None, float]:
    if drop_caches:
        subprocess.run(["sync"], check=False)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    tmp = Path(tempfile.mkdtemp(prefix="pneumo-start-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PNEUMO_DESKTOP_", "QT_"))}
    env.update(DISPLAY=display, HOME=str(tmp / "home"), PNEUMO_DESKTOP_HOME=str(tmp / "app"),
               XDG_RUNTIME_DIR=str(tmp / "run"), QT_QPA_PLATFORM="xcb")
    for sub in ("home", "app", "run"):
        (tmp / sub).mkdir(mode=0o700)
    log = tmp / "app" / "state" / "pneumo_desktop.log"
    started = time.monotonic()
    command = [str(exe)] if nice == 0 else ["nice", "-n", str(nice), str(exe)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    mapped = logged = None
    cpu = 0.0
    try:
        while time.monotonic() - started < 60 and (mapped is None or logged is None):
            if proc.poll() is not None:
                raise SystemExit(f"the app exited with {proc.returncode}: {proc.stderr.read()[-1500:]}")
            if logged is None and log.is_file() and " started" in log.read_text(errors="replace"):
                logged = time.monotonic() - started
            if mapped is None and mapped_main_window(display):
                mapped = time.monotonic() - started
                cpu = _cpu_seconds(proc.pid)
            time.sleep(0.01)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    if mapped is None:
        raise SystemExit("the window never appeared")
    return mapped, logged, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", nargs="?", type=Path, default=BUNDLE)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--drop-caches", action="store_true")
    parser.add_argument("--nice", type=int, default=0,
                        help="run the app at this niceness; negative (root) approximates an idle machine on a busy one")
    args = parser.parse_args(argv)
    exe = args.bundle.resolve() / "pneumo-desktop"
    if not (shutil.which("Xvfb") and shutil.which("xwininfo")):
        print("needs Xvfb and xwininfo (apt-get install xvfb x11-utils)", file=sys.stderr)
        return 2
    try:
        with virtual_display() as display:
            results = [one_run(exe, display, args.drop_caches, args.nice) for _ in range(args.runs)]
    except XvfbUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    for i, (mapped, logged, cpu) in enumerate(results, 1):
        print(f"run {i}: window mapped after {mapped:.2f} s ({cpu:.2f} s of CPU), 'started' logged after "
              f"{'-' if logged is None else f'{logged:.2f}'} s")
    mapped_all = [m for m, _, _ in results]
    cpu_all = [c for _, _, c in results]
    print(f"median window mapped: {statistics.median(mapped_all):.2f} s (min {min(mapped_all):.2f}, "
          f"max {max(mapped_all):.2f}) over {len(results)} runs"
          f"{' with the page cache dropped' if args.drop_caches else ''}; median CPU time to the window "
          f"{statistics.median(cpu_all):.2f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
