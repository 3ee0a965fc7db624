"""Run the app (``python -m pneumo_desktop ...``) in a subprocess and watch its network use from outside.

Two independent witnesses:
- psutil reads the process's sockets from /proc (the kernel's view: /proc/PID/fd inodes matched against
  /proc/net/tcp*, udp*), polled every POLL_S while it runs, children included. This sees sockets that
  Qt's C++ code or any C library opens, which monkeypatching Python's ``socket`` would miss.
- A Python audit hook installed before the app starts records every AF_INET/AF_INET6 socket Python
  creates, connects or binds, and every name lookup, however briefly it lives (a poll can miss those).
The app runs exactly as ``python -m pneumo_desktop`` would (runpy), after the hook is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

POLL_S = 0.1
_HOOK_ENV = "PNEUMO_TEST_SOCKET_LOG"
# Installed with sys.addaudithook before the app's first import; writes one line per network event.
_BOOT = f"""
import os, runpy, socket, sys
_fd = os.open(os.environ[{_HOOK_ENV!r}], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
_INET = (socket.AF_INET, socket.AF_INET6)

def _hook(event, args):
    if event == "socket.__new__" and len(args) > 1 and args[1] in _INET:
        os.write(_fd, f"{{event}} family={{args[1]}}\\n".encode())
    elif event in ("socket.connect", "socket.bind", "socket.sendto") and getattr(args[0], "family", None) in _INET:
        os.write(_fd, f"{{event}} {{args[1]!r}}\\n".encode())
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        os.write(_fd, f"{{event}} {{args[0]!r}}\\n".encode())

sys.addaudithook(_hook)
_module = sys.argv[1]
sys.argv = [_module, *sys.argv[2:]]
runpy.run_module(_module, run_name="__main__", alter_sys=True)
"""


@dataclass
class Watched:
    returncode: int | None
    stdout: str
    stderr: str
    polls: int  # how many times the sockets were read while the process was alive
    kernel_sockets: list[str] = field(default_factory=list)  # inet sockets psutil saw
    python_events: list[str] = field(default_factory=list)  # inet events the audit hook saw
    up: bool = False  # ``ready`` became true before the deadline


def _inet_sockets(proc: psutil.Process) -> list[str]:
    seen = []
    for p in [proc, *proc.children(recursive=True)]:
        try:
            for conn in p.net_connections(kind="inet"):
                seen.append(f"pid {p.pid}: {conn.type.name} {conn.laddr} -> {conn.raddr} {conn.status}")
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return seen


def run_watched(
    args: Sequence[str],
    env: dict[str, str],
    *,
    ready: Callable[[], bool] | None = None,
    done: Callable[[], bool] | None = None,
    max_s: float = 120.0,
    linger_s: float = 1.0,
    module: str = "pneumo_desktop",
) -> Watched:
    """Run ``python -m pneumo_desktop *args`` (or another ``module``) and poll its sockets until it exits.

    Without ``ready``/``done`` the process runs to completion (the CLI). With them (the GUI, which never
    exits by itself) it is terminated ``linger_s`` after ``done()`` turns true, or at ``max_s``.
    """
    with tempfile.TemporaryDirectory(prefix="net_watch_") as tmp:
        hook_log = Path(tmp) / "socket_events.txt"
        out_path, err_path = Path(tmp) / "stdout.txt", Path(tmp) / "stderr.txt"
        full_env = {**os.environ, **env, _HOOK_ENV: str(hook_log)}
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen([sys.executable, "-c", _BOOT, module, *args], env=full_env, stdout=out, stderr=err)
            watched = Watched(None, "", "", 0)
            try:
                watched = _poll(proc, ready, done, max_s, linger_s)
            finally:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
        watched.returncode = proc.returncode
        watched.stdout = out_path.read_text(encoding="utf-8", errors="replace")
        watched.stderr = err_path.read_text(encoding="utf-8", errors="replace")
        if hook_log.exists():
            watched.python_events = hook_log.read_text().splitlines()
    return watched


def _poll(proc: subprocess.Popen[bytes], ready: Callable[[], bool] | None, done: Callable[[], bool] | None,
          max_s: float, linger_s: float) -> Watched:
    watched = Watched(None, "", "", 0, up=ready is None)
    handle = psutil.Process(proc.pid)
    deadline = time.monotonic() + max_s
    stop_at: float | None = None
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            for sock in _inet_sockets(handle):
                if sock not in watched.kernel_sockets:
                    watched.kernel_sockets.append(sock)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            break
        watched.polls += 1
        if ready is not None and not watched.up and ready():
            watched.up = True
        if done is not None and stop_at is None and watched.up and done():
            stop_at = time.monotonic() + linger_s
        if stop_at is not None and time.monotonic() >= stop_at:
            break
        time.sleep(POLL_S)
    return watched
