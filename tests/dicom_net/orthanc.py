"""A real Orthanc for the network tests: its own config and storage in a temp folder, ports chosen free at run
time, HTTP and DICOM on 127.0.0.1 only, stopped after. Where Orthanc is not installed the tests skip and say
so loudly (install it with: apt-get install -y orthanc)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ORTHANC = shutil.which("Orthanc") or next((p for p in ("/usr/sbin/Orthanc",) if Path(p).is_file()), None)
SKIP_REASON = ("NOT TESTED AGAINST A REAL PACS: the Orthanc binary is missing "
               "(install it: apt-get install -y orthanc)")
ORTHANC_AE = "ORTHANC"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Orthanc:
    process: subprocess.Popen
    http_port: int
    dicom_port: int
    log_path: Path

    def rest(self, method: str, path: str, body: Any = None, *, raw: bool = False, timeout: float = 60) -> Any:
        # A str goes as it is (/tools/lookup takes a bare UID); anything else as JSON.
        data = None if body is None else body.encode() if isinstance(body, str) else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
        return payload if raw else json.loads(payload or b"null")

    def instances_of_study(self, study_uid: str) -> list[dict[str, Any]]:
        ids = self.rest("POST", "/tools/find", {"Level": "Instance", "Query": {"StudyInstanceUID": study_uid}})
        return [self.rest("GET", f"/instances/{i}/tags?simplify") | {"_id": i} for i in ids]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_orthanc(folder: Path, modalities: dict[str, list[Any]]) -> Orthanc:
    assert ORTHANC is not None
    http_port, dicom_port = free_port(), free_port()
    config = {
        "Name": "pneumo-desktop-tests", "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "index"), "HttpPort": http_port, "DicomPort": dicom_port,
        "DicomAet": ORTHANC_AE, "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
        "DicomModalities": modalities, "DicomAlwaysAllowStore": True, "DicomCheckCalledAet": False,
        "DicomCheckModalityHost": False, "DicomScuTimeout": 10, "Plugins": [], "ConcurrentJobs": 1,
        "HttpTimeout": 30, "SaveJobs": False,
    }
    (folder / "orthanc.json").write_text(json.dumps(config), encoding="utf-8")
    log_path = folder / "orthanc.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([ORTHANC, str(folder / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT)
    server = Orthanc(process, http_port, dicom_port, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Orthanc exited: {log_path.read_text(errors='replace')[-2000:]}")
        try:
            server.rest("GET", "/system", timeout=2)
            return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"Orthanc did not answer in 30 s: {log_path.read_text(errors='replace')[-2000:]}")
