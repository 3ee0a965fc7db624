"""Network fault and throughput figures for the opt-in DICOM node (docs/robustness.md, "DICOM node").

Each line: the situation, the message the user gets, and how long until they get it. Needs nothing but
pynetdicom for the first four; the last uses a real Orthanc when it is installed (apt-get install orthanc).
Run: python benchmarks/dicom_node.py
"""

from __future__ import annotations

import queue
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from _common import REPO  # noqa: F401 (puts the checkout on sys.path)

from pneumo_desktop.dicom_net.listener import Listener
from pneumo_desktop.dicom_net.nodes import DicomNetworkError, DicomNode
from pneumo_desktop.dicom_net.send import send_files

FILM = REPO / "tests" / "data" / "dicom" / "dx_mono2_8bit_implicit_vr_uncompressed.dcm"
TIMEOUT_S = 5.0


def timed(what: str, action: Callable[[], object]) -> None:
    start = time.perf_counter()
    try:
        result = action()
        outcome = f"ok: {result}"
    except DicomNetworkError as exc:
        outcome = str(exc)
    print(f"| {what} | {time.perf_counter() - start:.2f} s | {outcome} |", flush=True)


def films(folder: Path, count: int) -> list[Path]:
    from pydicom.uid import generate_uid

    sys.path.insert(0, str(REPO))
    from tests.core.dicom_factory import gradient, make_dataset, write

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        ds = make_dataset(gradient(512, 512), StudyInstanceUID="1.2.3", SeriesInstanceUID="1.2.3.4")
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        out.append(write(ds, folder / f"{i:03d}.dcm"))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inbox = folder / "inbox"
        inbox.mkdir()
        arrived: queue.Queue[Path] = queue.Queue()
        listener = Listener(ae_title="PNEUMO", port=0, inbox=inbox, allowed_callers=["SENDER"],
                            on_received=arrived.put)
        listener.start()
        node = DicomNode("PNEUMO", *listener.address)
        print(f"| situation (timeouts {TIMEOUT_S:g} s) | time to the message | message |\n|---|---|---|")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            free = s.getsockname()[1]
        timed("nobody listening on the port", lambda: send_files(DicomNode("X", "127.0.0.1", free), [FILM],
                                                                 timeout_s=TIMEOUT_S))
        timed("a caller the node does not accept", lambda: send_files(node, [FILM], calling_ae="STRANGER",
                                                                      timeout_s=TIMEOUT_S))
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(1)
            held: list[object] = []  # the accepted connection stays open: a peer that hangs, not one that resets
            threading.Thread(target=lambda: held.append(silent.accept()), daemon=True).start()
            timed("a peer that accepts the connection and never answers",
                  lambda: send_files(DicomNode("X", *silent.getsockname()), [FILM], timeout_s=TIMEOUT_S))
        batch = films(folder / "batch", 200)
        timed("200 films of 512x512 (0.5 MB each) in one association to the listener",
              lambda: f"{len(send_files(node, batch, calling_ae='SENDER', timeout_s=TIMEOUT_S).sent)} stored")
        listener.stop()
        _orthanc_killed(folder, batch)


def _orthanc_killed(folder: Path, batch: list[Path]) -> None:
    sys.path.insert(0, str(REPO))
    from tests.dicom_net.orthanc import ORTHANC, ORTHANC_AE, start_orthanc

    if ORTHANC is None:
        print("| Orthanc killed mid-transfer | - | not measured: Orthanc is not installed |")
        return
    (folder / "orthanc").mkdir(exist_ok=True)
    server = start_orthanc(folder / "orthanc", {})
    calls, killed_at = [], []

    def kill_at_100() -> bool:
        calls.append(1)
        if len(calls) == 101:
            server.process.kill()
            killed_at.append(time.perf_counter())
        return False

    try:
        timed("Orthanc killed after 100 of 200 films", lambda: send_files(
            DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port), batch, should_stop=kill_at_100,
            timeout_s=TIMEOUT_S))
        print(f"| (of which from the kill to the message) | {time.perf_counter() - killed_at[0]:.2f} s | |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
