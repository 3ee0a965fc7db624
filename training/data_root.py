"""Where the training data lives: the one lookup that ``pneumo-train``, the tests and the benchmarks use.

The Kermany set (5,856 films) is not in the repository. It is found, in this order, under the folder named by
``PNEUMO_DATA``, then under ``../shared/data`` beside the checkout (this project's workspace), else nowhere.
Light on purpose (no torch): the app's tests import it.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "PNEUMO_DATA"
CHECKOUT = Path(__file__).resolve().parents[1]
WORKSPACE_DATA = CHECKOUT.parent / "shared" / "data"
KERMANY_MISSING = "Kermany set not found: set PNEUMO_DATA or see training/README.md"


def data_root() -> Path | None:
    """The folder that holds ``kermany/`` (and optionally ``dicom/``, ``external/``), or None."""
    named = os.environ.get(DATA_ENV)
    if named:
        return Path(named).expanduser()
    return WORKSPACE_DATA if WORKSPACE_DATA.is_dir() else None


def kermany_dir() -> Path | None:
    """The Kermany set laid out as ``<dir>/{train,val,test}/{NORMAL,PNEUMONIA}/``, or None when absent."""
    root = data_root()
    if root is None:
        return None
    folder = root / "kermany"
    return folder if (folder / "train").is_dir() and (folder / "test").is_dir() else None
