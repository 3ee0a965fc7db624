"""What the window shows and the exporter writes from, Qt-free: the controller updates it, the window and the
exporter only read it (so neither reaches into the controller's requests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.prediction import Prediction

if TYPE_CHECKING:
    from pneumo_desktop.core.model_card import ModelCard


@dataclass
class Study:
    image: LoadedImage | None = None  # the full-resolution decode on screen
    prediction: Prediction | None = None  # its result, once shown
    card: ModelCard | None = None  # the loaded model's card
    model_error: str | None = None  # why there is no model (images can still be viewed)
    input_folders: set[Path] = field(default_factory=set)  # never written into (exports refuse them)

    def show(self, image: LoadedImage | None) -> None:
        self.image, self.prediction = image, None

    def scored(self, scored: LoadedImage, prediction: Prediction) -> None:
        """The result of the image on screen; what scoring noted about the file (the polarity warning) joins
        the image's own warnings, each once."""
        if self.image is not None:
            self.image.adopt_warnings(scored)
        self.prediction = prediction

    @property
    def population(self) -> dict[str, object] | None:
        return self.card.intended_population if self.card is not None else None
