"""``pneumo-desktop listen``: a headless DICOM node that scores what it receives, so a site can run it as a
service. Opt-in by nature: the socket exists only while this command runs, bound where it was told
(127.0.0.1 unless --bind says otherwise), and only the calling AE titles given with --allow may send.

Each film received: one JSON record on stdout, the PDF report and the DICOM results in --out, and with
--send-results-to the results C-STOREd to that node. A film received twice (the same SOP instance) replaces its
earlier report and results: the newest wins, and the audit log has a line for each. The model scores one film at a time on the main thread;
the listener's threads only save and queue.
"""

from __future__ import annotations

import json
import logging
import queue
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from pneumo_desktop import paths
from pneumo_desktop.cli import EXIT_MODEL, EXIT_OK, EXIT_USAGE, load_predictor
from pneumo_desktop.core.errors import PneumoError
from pneumo_desktop.core.records import FIELDS, record_from
from pneumo_desktop.core.scoring import model_input_for

log = logging.getLogger(__name__)


def default_inbox() -> Path:
    return paths.state_dir() / "inbox"  # the window's films go to subfolders of it (paths.inbox_dir)


def run_listen(*, port: int, allowed: Sequence[str], out_dir: Path, stdout: IO[str], ae_title: str,
               bind: str, inbox: Path | None = None, send_to: str | None = None,
               stop: threading.Event | None = None) -> int:
    from pneumo_desktop.dicom_net.listener import Listener
    from pneumo_desktop.dicom_net.nodes import DicomNetworkError, DicomNode

    inbox = Path(inbox) if inbox is not None else default_inbox()
    try:
        node = DicomNode.parse(send_to) if send_to else None
        inbox.mkdir(parents=True, exist_ok=True)
    except (DicomNetworkError, OSError) as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    if not Path(out_dir).is_dir():
        log.error("the output folder %s does not exist", out_dir)
        return EXIT_USAGE
    if Path(out_dir).resolve() == inbox.resolve() or inbox.resolve() in Path(out_dir).resolve().parents:
        log.error("the output folder must not be the inbox or inside it (inputs are never written to)")
        return EXIT_USAGE
    predictor = load_predictor()
    if predictor is None:
        return EXIT_MODEL
    arrived: queue.Queue[Path] = queue.Queue()
    stop = stop or _stop_on_signals()
    try:
        listener = Listener(ae_title=ae_title, port=port, inbox=inbox, allowed_callers=allowed,
                            on_received=arrived.put, bind=bind)
        listener.start()
    except DicomNetworkError as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    host, bound = listener.address
    log.info("listening as %s on %s:%d; inbox %s; stop with Ctrl+C", ae_title, host, bound, inbox)
    try:
        while not stop.is_set():
            try:
                path = arrived.get(timeout=0.2)
            except queue.Empty:
                continue
            _score_one(path, predictor, Path(out_dir), stdout, node, ae_title)
    finally:
        listener.stop()
    return EXIT_OK


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # a service manager stops it cleanly
    return stop


def _score_one(path: Path, predictor: object, out_dir: Path, stdout: IO[str], node: object,
               ae_title: str) -> None:
    from pneumo_desktop.core import audit
    from pneumo_desktop.core.loader import load_image
    from pneumo_desktop.core.predictor import Predictor
    from pneumo_desktop.dicom_net.nodes import DicomNetworkError, DicomNode
    from pneumo_desktop.dicom_net.send import send_files
    from pneumo_desktop.dicom_out import DicomExportError, export_dicom_results
    from pneumo_desktop.report import ReportError, write_single_report

    assert isinstance(predictor, Predictor)
    try:
        image = load_image(path)
        scored = model_input_for(image, predictor.size)
        prediction = predictor.predict(scored, heatmap=True)
        image.adopt_warnings(scored)
    except PneumoError as exc:
        log.error("%s", exc)
        _emit(stdout, record_from(str(path), None, error=str(exc)))
        return
    except Exception as exc:  # a service must outlive one film the model chokes on; the log keeps the trace
        log.error("%s: the model could not score this image (%s)", path.name, type(exc).__name__)
        log.debug("model failure", exc_info=True)
        _emit(stdout, record_from(str(path), None, error=f"the model could not score this image ({type(exc).__name__})"))
        return
    audit.record_prediction(image.file_sha256, prediction, source="listen")
    _emit(stdout, record_from(str(path), prediction, image, population=predictor.card.intended_population))
    report_path = out_dir / f"{path.stem}_pneumonia_report.pdf"
    if report_path.exists():
        # The same instance sent again has the same inbox name, so the same report name: the newest wins (the
        # audit log keeps a line for each scoring). Said here so an operator is not surprised.
        log.info("%s was received again: its earlier report and DICOM results in %s are replaced", path.name,
                 out_dir)
    try:
        pdf = write_single_report(report_path, image, prediction,
                                  predictor.card, hide_phi=False, overwrite=True)
        results = export_dicom_results(out_dir, image, prediction, predictor.card, pdf=pdf.read_bytes(),
                                       overwrite=True)
    except (ReportError, DicomExportError) as exc:
        log.error("%s", exc)
        return
    log.info("%s scored; report and %d DICOM results in %s", path.name, len(results.paths), out_dir)
    if isinstance(node, DicomNode):
        try:
            outcome = send_files(node, results.paths, calling_ae=ae_title)
        except DicomNetworkError as exc:
            log.error("results not sent: %s", exc)
            audit.record_send(image.file_sha256, prediction.model, prediction.model_sha256,
                              destination_ae=node.ae_title, sent=0, failed=len(results.paths), source="listen")
            return
        audit.record_send(image.file_sha256, prediction.model, prediction.model_sha256, destination_ae=node.ae_title,
                          sent=len(outcome.sent), failed=len(outcome.failed), source="listen")
        for failed, why in outcome.failed:
            log.error("%s not sent to %s: %s", failed.name, node, why)
        log.info("%d results sent to %s", len(outcome.sent), node)


def _emit(stdout: IO[str], record: dict) -> None:
    stdout.write(json.dumps({k: record.get(k) for k in FIELDS}, ensure_ascii=False) + "\n")
    stdout.flush()
