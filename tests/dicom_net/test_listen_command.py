"""``pneumo-desktop listen`` as a site runs it (a real process): Orthanc sends a film, the node scores it,
prints its record, writes the report and results, sends the results back to Orthanc, and listens only on
the configured interface; SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pydicom
import pytest

from pneumo_desktop.dicom_net.received_files import received_file_name
from pneumo_desktop.dicom_net.send import send_files
from tests.conftest import DICOM_DIR, REPO
from tests.dicom_net.orthanc import ORTHANC, ORTHANC_AE, SKIP_REASON
from tests.dicom_net.test_orthanc_round_trip import FILMS, SR, node, pacs  # noqa: F401 (the fixture)

pytestmark = pytest.mark.skipif(ORTHANC is None, reason=SKIP_REASON)


def _lines(stream, sink: list[str]) -> None:
    for line in iter(stream.readline, ""):
        sink.append(line)


def _wait(condition, timeout: float, what: str, err: list[str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen in {timeout} s; stderr: {''.join(err)[-3000:]}")
        time.sleep(0.2)


def test_listen_scores_what_orthanc_sends_and_sends_results_back(pacs, tiny_model_dir: Path,  # noqa: F811
                                                                 tmp_path: Path) -> None:
    server, ports = pacs
    film = DICOM_DIR / FILMS[1]
    assert send_files(node(server), [film], calling_ae="PNEUMO").ok
    header = pydicom.dcmread(film, stop_before_pixels=True)
    out, inbox = tmp_path / "out", tmp_path / "inbox"
    out.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO), PNEUMO_DESKTOP_MODELS=str(tiny_model_dir),
               PNEUMO_DESKTOP_HOME=str(tmp_path / "home"))
    process = subprocess.Popen(
        [sys.executable, "-m", "pneumo_desktop", "listen", "--port", str(ports["listen"]), "--ae-title", "PNEUMO",
         "--allow", ORTHANC_AE, "--out", str(out), "--inbox", str(inbox),
         "--send-results-to", f"{ORTHANC_AE}@127.0.0.1:{server.dicom_port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    stdout: list[str] = []
    stderr: list[str] = []
    for stream, sink in ((process.stdout, stdout), (process.stderr, stderr)):
        threading.Thread(target=_lines, args=(stream, sink), daemon=True).start()
    try:
        _wait(lambda: any("listening as PNEUMO" in line for line in stderr), 60, "listening", stderr)
        listening = [c.laddr for c in psutil.Process(process.pid).net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN]
        assert [(a.ip, a.port) for a in listening] == [("127.0.0.1", ports["listen"])]

        (found,) = server.rest("POST", "/tools/lookup", str(header.SOPInstanceUID))
        server.rest("POST", "/modalities/listen/store", {"Resources": [found["ID"]], "Synchronous": True})
        _wait(lambda: len(stdout) >= 1, 60, "a record", stderr)
        record = json.loads(stdout[0])
        assert record["error"] is None and 0.0 <= record["probability"] <= 1.0
        assert Path(record["path"]) == inbox / received_file_name(header)
        _wait(lambda: any(c["SOPClassUID"] == SR for c in server.instances_of_study(str(header.StudyInstanceUID))),
              60, "the SR in Orthanc", stderr)
        names = sorted(p.name for p in out.iterdir())
        assert len(names) == 4 and sum(n.endswith(".dcm") for n in names) == 3
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert returncode == 0, "".join(stderr)[-3000:]
    assert "Traceback" not in "".join(stderr)
