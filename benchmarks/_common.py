"""Shared by the performance benchmarks: the machine description, percentile statistics, the model to use
and the input sets (made once into a temp folder, deterministic, every file distinct).

Benchmarks print figures; they are not tests. Run them on a quiet machine (see docs/performance.md).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
# The pneumo_desktop tree under test: this checkout, or PNEUMO_BENCH_CODE (e.g. an exported older commit, for
# before/after figures). Child processes get it as PYTHONPATH; the model stays this checkout's.
CODE = Path(os.environ.get("PNEUMO_BENCH_CODE") or REPO).resolve()
if CODE != REPO:
    sys.path.insert(0, str(CODE))
os.environ.setdefault("PNEUMO_DESKTOP_MODELS", str(REPO / "models"))
from training.data_root import kermany_dir  # noqa: E402 - after the sys.path set-up above

KERMANY = kermany_dir() or REPO / "tests" / "data" / "no-kermany-set"  # test-split benchmarks need the set
SAMPLES = REPO / "samples"
REAL_J2K_DICOM = REPO / "tests" / "data" / "dicom" / "cr_mono1_15bit_j2k_lossy.dcm"
DATA_ROOT = Path(tempfile.gettempdir()) / "pneumo_bench_data"
# Full-resolution set: each original plus re-encodes at these JPEG qualities (distinct bytes, same pixels
# count and content), so the set is 12 * (1 + 5) = 72 files and no file is ever scored twice.
REENCODE_QUALITIES = (70, 80, 88, 92, 96)
TWO_K = 2048


# ----- environment ----------
def isolate_home() -> Path:
    """Point the app's per-user folders (audit log, settings) at a throw-away folder."""
    home = Path(tempfile.mkdtemp(prefix="pneumo_bench_home_"))
    os.environ["PNEUMO_DESKTOP_HOME"] = str(home)
    return home


def model_dir() -> Path:
    """The model under test: PNEUMO_DESKTOP_MODELS when set, else this checkout's models/ folder."""
    return Path(os.environ["PNEUMO_DESKTOP_MODELS"])


def model_identity() -> str:
    try:
        card = json.loads((model_dir() / "model_card.json").read_text())
    except (OSError, ValueError):
        return "no model"
    widths = card.get("architecture", {}).get("arguments", {}).get("widths")
    return f"{card.get('name')} {card.get('version')} (widths {widths}, {card['preprocess']['size']} px)"


def machine() -> dict[str, Any]:
    """What the figures were measured on (cpu, cores, memory, library builds, load at the time)."""
    import PIL
    from PIL import features

    info: dict[str, Any] = {
        "cpu": _lscpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(_mem_total_bytes() / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "pillow": PIL.__version__,
        "libjpeg_turbo": bool(features.check_feature("libjpeg_turbo")),
        "numpy": np.__version__,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        info["onnxruntime"] = "not importable"
    return info


def _lscpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return platform.processor() or "unknown"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _mem_total_bytes() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


# ----- statistics ----------
def spread(samples: Sequence[float]) -> dict[str, float]:
    """Median and the 10th/90th percentiles (robust to the odd scheduler hiccup), plus n."""
    arr = np.asarray(samples, dtype=np.float64)
    if arr.size == 0:
        return {"median": float("nan"), "p10": float("nan"), "p90": float("nan"), "n": 0}
    p10, p50, p90 = np.percentile(arr, [10, 50, 90])
    return {"median": float(p50), "p10": float(p10), "p90": float(p90), "n": int(arr.size)}


def fmt_spread(s: dict[str, float], unit: str = "ms", digits: int = 1) -> str:
    return (
        f"{s['median']:.{digits}f} {unit} (p10 {s['p10']:.{digits}f}, p90 {s['p90']:.{digits}f}, n={s['n']})"
    )


class StageTimer:
    """Times named stages of one run: ``with t("decode"): ...``; values in milliseconds."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - started) * 1000.0


def write_json(path: str | None, payload: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(payload, indent=1, default=str) + "\n")


def cpu_busy_fraction(seconds: float = 3.0) -> float:
    """Share of all cores busy over a short window (from /proc/stat): other users of the machine."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields), idle

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1.0 - (idle1 - idle0) / max(total1 - total0, 1)


def wait_quiet(max_busy: float = 0.15, timeout_s: float = 300.0) -> float:
    """Wait (bounded) until the machine is nearly idle: timings on a busy 2-core box mean little. A CPU
    sample, not the load average, which stays high for a minute after the previous benchmark."""
    end = time.monotonic() + timeout_s
    busy = cpu_busy_fraction()
    while busy > max_busy and time.monotonic() < end:
        busy = cpu_busy_fraction()
    return busy


# ----- input sets ----------
def sample_files() -> list[Path]:
    return sorted(SAMPLES.glob("*/*.jpeg"))


def test_split_files() -> list[Path]:
    """The 624 official test images (256-px copies)."""
    return sorted((KERMANY / "test").glob("*/*.jpg"))


def _cached(name: str, build: Callable[[Path], None]) -> Path:
    """A data folder built once per machine; a partial build (interrupted) is thrown away and redone."""
    folder = DATA_ROOT / name
    if (folder / ".complete").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    build(folder)
    (folder / ".complete").write_text("ok\n")
    return folder


def fullres_set() -> list[Path]:
    """The 12 full-resolution originals plus 60 distinct JPEG re-encodes of them (72 files)."""
    from PIL import Image

    def build(folder: Path) -> None:
        for src in sample_files():
            stem = f"{src.parent.name}_{src.stem}"
            shutil.copyfile(src, folder / f"{stem}_orig.jpeg")
            with Image.open(src) as im:
                im.load()
                for q in REENCODE_QUALITIES:
                    im.save(folder / f"{stem}_q{q}.jpeg", quality=q)

    return sorted(p for p in _cached("fullres_v1", build).glob("*.jpeg"))


def two_k_set() -> list[Path]:
    """Twelve distinct 2048x2048 JPEGs (each sample resampled to 2k x 2k, quality 90): the issue's
    "2k x 2k JPEG" case; the originals themselves are 0.9k to 2.2k wide."""
    from PIL import Image

    def build(folder: Path) -> None:
        for src in sample_files():
            with Image.open(src) as im:
                big = im.convert("L").resize((TWO_K, TWO_K), Image.Resampling.BICUBIC)
                big.save(folder / f"{src.parent.name}_{src.stem}_2k.jpeg", quality=90)

    return sorted(_cached("two_k_v1", build).glob("*.jpeg"))


def dicom16_set(count: int = 6) -> list[Path]:
    """16-bit DICOMs (MONOCHROME2, 16 bits stored, explicit VR little endian, uncompressed, 2k x 2k) made
    with pydicom from the six NORMAL samples: 8-bit pixels widened to 16 bits with a smooth exposure
    ramp, so the low byte carries real information and each file differs."""
    from PIL import Image

    def build(folder: Path) -> None:
        for i, src in enumerate(sample_files()[:count]):
            with Image.open(src) as im:
                gray = np.asarray(
                    im.convert("L").resize((TWO_K, TWO_K), Image.Resampling.BICUBIC), dtype=np.float64
                )
            ramp = np.linspace(0.0, 255.0, TWO_K)[None, :]
            pixels = np.clip(gray * 257.0 * 0.9 + ramp * (i + 1), 0, 65535).astype(np.uint16)
            _write_dicom16(pixels, folder / f"{src.stem}_16bit.dcm")

    return sorted(_cached("dicom16_v1", build).glob("*.dcm"))


def _write_dicom16(pixels: np.ndarray, path: Path) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    cr_storage = "1.2.840.10008.5.1.4.1.1.1"
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = cr_storage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = cr_storage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "CR"
    ds.PatientName = "Benchmark^Synthetic"
    ds.PatientID = "BENCH-16"
    ds.ViewPosition = "PA"
    ds.BodyPartExamined = "CHEST"
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.SamplesPerPixel = 1
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.WindowCenter = int(pixels.mean())
    ds.WindowWidth = int(pixels.max()) - int(pixels.min())
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True)


def thousand_set(count: int = 1000) -> Path:
    """A folder of ``count`` distinct 256-px chest images: the 624 test copies, then train copies."""

    def build(folder: Path) -> None:
        sources = test_split_files() + sorted((KERMANY / "train").glob("*/*.jpg"))
        if len(sources) < count:
            raise SystemExit(f"only {len(sources)} source images for a {count}-image set")
        for i, src in enumerate(sources[:count]):
            shutil.copyfile(src, folder / f"{i:04d}_{src.parent.name}_{src.name}")

    return _cached(f"distinct_{count}_v1", build)


def open_window() -> tuple[Any, Any]:
    """The real window, offscreen, as app.build() wires it, once its model has loaded (or failed to):
    (QApplication, MainWindow)."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from pneumo_desktop import app

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    window = app.build()
    window.resize(1400, 900)
    window.show()
    session = window.controller.session
    window.controller.load_model()
    end = time.monotonic() + 120
    while session.card is None and session.error is None and time.monotonic() < end:
        qapp.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
    return qapp, window
