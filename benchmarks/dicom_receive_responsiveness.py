"""How responsive the window stays while 200 films arrive over DICOM and are scored (the issue's "200 images in
one move"). A 10 ms heartbeat timer on the GUI thread records the longest gap between its ticks from the first
film sent to the last row scored.

    QT_QPA_PLATFORM=offscreen PYTHONPATH=. python benchmarks/dicom_receive_responsiveness.py [--films 200] [--retrieve]

Default: the films are C-STOREd to the window's listener. --retrieve: they are stored in a real Orthanc first
(needs the `orthanc` package), and the window's Query/Retrieve window searches for the study and C-GETs its
200 films, which are then scored; the heartbeat runs from the Retrieve click to the last row scored.

Uses the tiny test model (built on the fly) so it measures the plumbing, not the model.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PNEUMO_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="pneumo_bench_")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--films", type=int, default=200)
    parser.add_argument("--retrieve", action="store_true")
    args = parser.parse_args()
    count = args.films
    from pydicom.uid import generate_uid
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from tests.conftest import make_tiny_model_dir
    from tests.core.dicom_factory import gradient, make_dataset, write
    from tests.dicom_net.orthanc import free_port

    work = Path(tempfile.mkdtemp(prefix="pneumo_bench_films_"))
    os.environ["PNEUMO_DESKTOP_MODELS"] = str(make_tiny_model_dir(work / "model"))
    films = []
    study = generate_uid()
    for _ in range(count):
        ds = make_dataset(gradient(256, 256), PatientID="BENCH200", StudyInstanceUID=study,
                          SeriesInstanceUID=generate_uid())
        films.append(write(ds, work / f"{ds.SOPInstanceUID}.dcm"))

    qapp = QApplication(sys.argv[:1])
    from pneumo_desktop import app
    from pneumo_desktop.dicom_net.node_config import NodeConfig
    from pneumo_desktop.dicom_net.nodes import DicomNode
    from pneumo_desktop.dicom_net.send import send_files

    window = app.build()
    window.resize(1400, 900)
    window.show()
    window.controller.load_model()
    port = free_port()
    commands = window.dicom_commands
    server = None
    if args.retrieve:
        from tests.dicom_net.orthanc import ORTHANC, ORTHANC_AE, start_orthanc

        if ORTHANC is None:
            raise SystemExit("--retrieve needs Orthanc (apt-get install orthanc)")
        (work / "orthanc").mkdir()
        server = start_orthanc(work / "orthanc", {"app": ["PNEUMO", "127.0.0.1", port]})
        stored = send_files(DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port), films, calling_ae="PNEUMO",
                            timeout_s=60)
        assert stored.ok, stored.failed[:3]
        commands._inform = lambda _parent, _message: None
        commands.apply_config(NodeConfig(ae_title="PNEUMO", port=port, listening=False, allowed_callers=(ORTHANC_AE,),
                                         remotes=(DicomNode(ORTHANC_AE, "127.0.0.1", server.dicom_port),)))
        query = commands.open_query_retrieve()
        query.patient_id.setText("BENCH200")
        query.search_button.click()
        while query._job is not None or not query.matches:
            qapp.processEvents()
            time.sleep(0.005)
    else:
        commands.apply_config(NodeConfig(ae_title="PNEUMO", port=port, listening=True, allowed_callers=("PACS",)))
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    heartbeat = QTimer()
    heartbeat.timeout.connect(tick)
    heartbeat.start(10)
    sent: list[object] = []
    started = time.perf_counter()
    if args.retrieve:
        query.retrieve_button.click()  # the retrieve runs on a network worker; this returns at once
        sent.append(True)
        sender = threading.Thread(target=lambda: None)
    else:
        sender = threading.Thread(target=lambda: sent.append(
            send_files(DicomNode("PNEUMO", "127.0.0.1", port), films, calling_ae="PACS", timeout_s=60)))
    sender.start()
    model = window.study_list.model
    while not (sent and model.rowCount() == count and all(r.finished for r in model.rows)
               and not window.controller.batch_running()):
        qapp.processEvents()
        time.sleep(0.001)
        if time.perf_counter() - started > 600:
            raise SystemExit("did not finish in 10 minutes")
    elapsed = time.perf_counter() - started
    sender.join()
    heartbeat.stop()
    commands.shutdown()
    window.controller.shutdown()
    if server is not None:
        server.stop()
    gaps.sort()
    how = "retrieved from Orthanc (C-GET)" if args.retrieve else "received (C-STORE to the listener)"
    print(f"{count} films {how} and scored in {elapsed:.1f} s; heartbeat gaps over {len(gaps)} ticks: "
          f"median {gaps[len(gaps) // 2]:.0f} ms, p99 {gaps[int(len(gaps) * 0.99)]:.0f} ms, max {gaps[-1]:.0f} ms")


if __name__ == "__main__":
    main()
