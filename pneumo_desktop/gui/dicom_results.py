"""The shown result as DICOM, off the GUI thread: written into a folder the user chose, or exported into the
app's own outbox and C-STOREd to a configured node (then the outbox copy goes). Plain functions, no widgets:
the window's commands (gui/dicom_flow.py) run them on workers.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pneumo_desktop import paths
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.model_card import ModelCard
from pneumo_desktop.core.prediction import Prediction
from pneumo_desktop.dicom_net.nodes import DicomNode
from pneumo_desktop.dicom_out.targets import SUFFIXES

# What each object is, for messages: the files are named after the scored file, which may name the patient.
KINDS = {SUFFIXES["pdf"]: "report PDF", SUFFIXES["sr"]: "structured report", SUFFIXES["sc"]: "heatmap capture"}
NETWORK_TIMEOUT_S = 20.0


def kind_of(path: Path) -> str:
    return next((kind for suffix, kind in KINDS.items() if path.name.endswith(suffix)), "object")


@dataclass(frozen=True)
class SendReport:
    destination: str  # the node's AE title
    sent: list[str]  # kinds of the objects stored
    failed: list[str]  # "kind: why"
    audited: bool

    @property
    def message(self) -> str:
        if not self.failed:
            return f"Sent {len(self.sent)} objects ({', '.join(self.sent)}) to {self.destination}."
        total = len(self.sent) + len(self.failed)
        return (f"Sent {len(self.sent)} of {total} objects to {self.destination}; not sent: "
                f"{'; '.join(self.failed)}.")


def write_results(out_dir: Path, image: LoadedImage, prediction: Prediction, card: ModelCard,
                  warnings: Sequence[str], *, overwrite: bool) -> list[Path]:
    """Export as DICOM into ``out_dir`` with the warnings the window shows (the same list the headless path
    computes for a result shown without hide-PHI)."""
    from pneumo_desktop.dicom_out import export_dicom_results

    return export_dicom_results(out_dir, image, prediction, card, overwrite=overwrite, warnings=warnings).paths


def send_results(node: DicomNode, image: LoadedImage, prediction: Prediction, card: ModelCard,
                 warnings: Sequence[str], *, calling_ae: str, should_stop: Callable[[], bool],
                 timeout_s: float = NETWORK_TIMEOUT_S) -> SendReport:
    """Export into a fresh folder of the outbox, send, write the audit "dicom_send" line, remove the folder.

    A send that could not start (no association) is audited as failed too: the log says an attempt was made."""
    from pneumo_desktop.core import audit
    from pneumo_desktop.dicom_net.nodes import DicomNetworkError
    from pneumo_desktop.dicom_net.send import send_files
    from pneumo_desktop.dicom_out import export_dicom_results

    folder = Path(tempfile.mkdtemp(prefix="send_", dir=paths.inbox_dir("outbox")))
    try:
        written = export_dicom_results(folder, image, prediction, card, warnings=warnings).paths
        try:
            outcome = send_files(node, written, calling_ae=calling_ae, timeout_s=timeout_s, should_stop=should_stop)
        except DicomNetworkError:
            audit.record_send(image.file_sha256, prediction.model, prediction.model_sha256,
                              destination_ae=node.ae_title, sent=0, failed=len(written), source="gui")
            raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    audited = audit.record_send(image.file_sha256, prediction.model, prediction.model_sha256,
                                destination_ae=node.ae_title, sent=len(outcome.sent), failed=len(outcome.failed),
                                source="gui")
    return SendReport(node.ae_title, [kind_of(p) for p in outcome.sent],
                      [f"{kind_of(p)}: {why}" for p, why in outcome.failed], audited)
