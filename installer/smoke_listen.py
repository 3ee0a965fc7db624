"""The smoke test's DICOM check: the bundle's `pneumo-desktop listen` (its bundled pynetdicom, highdicom and
codecs) receives a film C-STOREd by the source install's pynetdicom, scores it to the CLI's probability and writes
its PDF report and three DICOM results. Standard library only; run through installer/smoke_test.py.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import time
from pathlib import Path

from smoke_common import GUI_TIMEOUT_S, TOLERANCE, Failure, stop_group

SEND_ONE = """
import sys
import pydicom
from pynetdicom import AE
port, path = int(sys.argv[1]), sys.argv[2]
ds = pydicom.dcmread(path)
ae = AE(ae_title="SMOKE_SCU")
ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
assoc = ae.associate("127.0.0.1", port, ae_title="PNEUMO_DESKTOP")
assert assoc.is_established, "the bundle's listener refused the association"
status = assoc.send_c_store(ds)
assoc.release()
assert status and status.Status == 0, f"C-STORE status {status}"
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listen_check(exe: Path, source_python: Path, film: Path, expected: float, env: dict[str, str], cwd: Path,
                 out: Path) -> None:
    """`pneumo-desktop listen` (the bundled pynetdicom): a film C-STOREd by the source install's pynetdicom is
    scored to the CLI's probability, and its PDF and three DICOM results are written."""
    port = _free_port()
    out.mkdir()
    proc = subprocess.Popen([str(exe), "listen", "--port", str(port), "--allow", "SMOKE_SCU", "--out", str(out)],
                            env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    started = time.monotonic()
    try:
        while True:
            if proc.poll() is not None:
                raise Failure(f"listen exited early (rc {proc.returncode}): {proc.stderr.read()[-2000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() - started > GUI_TIMEOUT_S:
                raise Failure(f"listen did not open port {port} within {GUI_TIMEOUT_S:.0f} s")
            time.sleep(0.05)
        sent = subprocess.run([str(source_python), "-c", SEND_ONE, str(port), str(film)], capture_output=True,
                              text=True, timeout=120, check=False)
        if sent.returncode != 0:
            raise Failure(f"sending {film.name} to the bundle's listener failed: {sent.stderr[-1500:]}")
        ready, _, _ = select.select([proc.stdout], [], [], GUI_TIMEOUT_S)
        if not ready:
            raise Failure(f"listen printed no record within {GUI_TIMEOUT_S:.0f} s of receiving {film.name}")
        line = proc.stdout.readline()
        if not line.strip():
            proc.wait(timeout=20)
            raise Failure(f"listen exited (rc {proc.returncode}) on receiving {film.name}: {proc.stderr.read()[-2500:]}")
        record = json.loads(line)
        deadline = time.monotonic() + GUI_TIMEOUT_S  # the record comes before the report and the results
        while len(list(out.glob("*.dcm"))) < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        stop_group(proc)
    if record.get("probability") is None or abs(record["probability"] - expected) > TOLERANCE:
        raise Failure(f"listen scored {film.name} {record.get('probability')!r} "
                      f"({record.get('error') or record.get('rejected')}), the CLI {expected:.6f}")
    written = sorted(p.name for p in out.iterdir())
    if len([n for n in written if n.endswith(".dcm")]) != 3 or not any(n.endswith(".pdf") for n in written):
        raise Failure(f"listen wrote {written}; expected a PDF and three DICOM results")
    print(f"  listen: received {film.name} on port {port}, p = {record['probability']:.4f}, wrote {len(written)} files")
