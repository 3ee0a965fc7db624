"""The predictor, loaded once on the model thread; torch is imported here and only at first use.

Only model-pool workers call ``get()``, so the single model thread serialises every access (the
Predictor is not thread-safe). A load failure is remembered: every later request gets the same clear
message while images stay viewable.
"""

from __future__ import annotations

import threading
import time
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
        self.load_seconds: float | None = None

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
            started = time.perf_counter()
            try:
                from pneumo_desktop.core.predictor import Predictor

                self._predictor = Predictor.load(self._directory)
            except PneumoError as exc:
                self._error = exc
                raise
            except (OSError, ImportError, RuntimeError) as exc:
                self._error = ModelLoadError(
                    f"The model could not be loaded ({type(exc).__name__}); images can still be viewed."
                )
                raise self._error from exc
            self.load_seconds = time.perf_counter() - started
            return self._predictor
