"""Training's tensor standardisation is the app's numpy one (one preprocessing definition, two array types)."""

from __future__ import annotations

import numpy as np
import torch

from pneumo_desktop.core.preprocess import standardise
from training.engine import standardise_t


def test_tensor_and_numpy_standardisation_agree() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((3, 1, 32, 48), dtype=np.float32) * np.array([1.0, 0.01, 0.5], np.float32)[:, None, None, None]
    np.testing.assert_allclose(standardise_t(torch.from_numpy(x)).numpy(), standardise(x), atol=1e-5)
