"""The listener under a connection flood (docs/robustness.md, "The listener under hostile traffic").

Starts the listener in its own process (default settings), opens 50 idle and 50 trickling connections
(one byte of an association request every 2 s), tries 20 C-STOREs during the flood, then stops the flood and
measures how long until a store succeeds again. Reports the stores that succeeded, the TCP connections the
listener held (sampled every 0.1 s), its RSS during the flood, and the recovery time.
Run: python benchmarks/listener_flood.py [PACKAGE_ROOT]   (another checkout's root to measure it instead)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from _common import REPO

from tests.core.dicom_factory import gradient, make_dataset, write
from tests.dicom_net.hostile_traffic import Flood, store_file

SERVE = """
import sys, time
from pathlib import Path
from pneumo_desktop.dicom_net.listener import Listener
node = Listener(ae_title="PNEUMO", port=int(sys.argv[2]), inbox=Path(sys.argv[1]), allowed_callers=["SENDER"],
                on_received=lambda path: None)
node.start()
import pneumo_desktop
print("READY", pneumo_desktop.__file__, flush=True)
time.sleep(3600)
"""


def main() -> None:
    root = sys.argv[1] if len(sys.argv) > 1 else str(REPO)
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        film = write(make_dataset(gradient(256, 256)), Path(tmp) / "film.dcm")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-c", SERVE, str(inbox), str(port)], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, PYTHONPATH=root),
                                  cwd=tmp)  # not the checkout: "-c" puts the working folder first on the path
        assert server.stdout is not None
        ready = server.stdout.readline().split()
        assert ready[:1] == ["READY"], ready
        proc = psutil.Process(server.pid)
        samples: list[tuple[int, int]] = []  # (connections held, RSS)
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                held = sum(1 for c in proc.net_connections(kind="tcp")
                           if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port)
                samples.append((held, proc.memory_info().rss))
                time.sleep(0.1)

        address = ("127.0.0.1", port)
        try:
            rss_before = proc.memory_info().rss
            threading.Thread(target=sample, daemon=True).start()
            flood = Flood(address, idle=50, trickling=50, interval_s=2.0)
            time.sleep(1.0)
            started = time.monotonic()
            statuses = [store_file(address, film, timeout_s=5) for _ in range(20)]
            stores_s = time.monotonic() - started
            ok = sum(s == 0 for s in statuses)
            time.sleep(max(0.0, 12 - (time.monotonic() - flood.started)))  # the flood lasts 12 s
            flood_samples = list(samples)
            closed_by_listener = sorted(flood.closed_at)
            flood.stop()
            stopped = time.monotonic()
            while store_file(address, film, timeout_s=5) != 0 and time.monotonic() - stopped < 120:
                time.sleep(0.25)
            recovery = time.monotonic() - stopped
            sampling.set()
        finally:
            server.kill()
        held = [h for h, _ in flood_samples]
        print(f"package: {ready[1]}")
        print(f"stores during the flood: {ok}/20 succeeded in {stores_s:.1f} s")
        print(f"connections the listener held during the flood: max {max(held)}, at its end {held[-1]}")
        print(f"flood connections the listener closed during the 12 s flood: {len(closed_by_listener)}/100"
              + (f", the last {closed_by_listener[-1]:.1f} s after it began" if closed_by_listener else ""))
        print(f"RSS: {rss_before / 2**20:.0f} MB before, max {max(r for _, r in flood_samples) / 2**20:.0f} MB "
              "during the flood")
        print(f"recovery after the flood stopped: {recovery:.2f} s until a store succeeded")


if __name__ == "__main__":
    main()
