"""The predictor, loaded once on the model thread; ONNX Runtime is imported here and only at first use.

Only model-pool workers call ``get()``, so the single model thread serialises every access (the
Predictor is not thread-safe). A load failure is remembered: every later request gets the same clear
message while images stay viewable.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from pneumo_desktop.core.errors import ModelLoadError, PneumoError

if TYPE_CHECKING:
    from pneumo_desktop.core.model_card import ModelCard
    from pneumo_desktop.core.predictor import Predictor


class ModelSession:
    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self._predictor: Predictor | None = None
        self._error: PneumoError | None = None
        self._lock = threading.Lock()

    @property
    def card(self) -> ModelCard | None:
        return self._predictor.card if self._predictor is not None else None

    @property
    def error(self) -> PneumoError | None:
        return self._error

    def get(self) -> Predictor:
        with self._lock:
            if self._predictor is not None:
                return self._predictor
            if self._error is not None:
                raise self._error
            try:
                from pneumo_desktop.core.predictor import Predictor
                from pneumo_desktop.core.runtime import default_threads

                self._predictor = Predictor.load(self._directory, threads=default_threads())
            except PneumoError as exc:
                self._error = exc
                raise
            except (OSError, ImportError, RuntimeError) as exc:
                self._error = ModelLoadError(
                    f"The model could not be loaded ({type(exc).__name__}); images can still be viewed."
                )
                raise self._error from exc
            _warm_up(self._predictor)
            return self._predictor


def _warm_up(predictor: Predictor) -> None:
    """One throw-away prediction with heatmap while the model loads, so the one-time costs of the first
    runs (ONNX Runtime allocates its buffers per input shape on first use) are not paid, with the window
    stalling, when the first real image arrives. Not audited: it is no one's image."""
    import numpy as np

    # The readers pull in pydicom, GDCM and the JPEG plugins: importing them holds the GIL for a few
    # hundred ms, which belongs here, in the start-up phase, not in the middle of the first batch.
    import pneumo_desktop.core.audit
    import pneumo_desktop.core.dicom_reader
    import pneumo_desktop.core.loader
    import pneumo_desktop.core.records  # noqa: F401
    from pneumo_desktop.core.image import LoadedImage

    ramp = np.linspace(0.0, 1.0, 256 * 256, dtype=np.float32).reshape(256, 256)
    image = LoadedImage(pixels=ramp, path=Path("warm-up"), kind="raster", file_sha256="0" * 64)
    try:
        prediction = predictor.predict(image, heatmap=True)
        prediction.heatmap(image.shape)
        predictor.predict_batch([image, image])
    except Exception:  # noqa: BLE001 - a failed warm-up only costs speed; real requests report errors
        logging.getLogger(__name__).warning("model warm-up failed", exc_info=True)
