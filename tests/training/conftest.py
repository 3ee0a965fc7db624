"""tests/training tests training itself and the parity between torch and the app: without torch (the train
extra) each module here is reported skipped with one reason, TORCH_MISSING, instead of failing to import."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import HAVE_TORCH, TORCH_MISSING


class _TorchMissing(pytest.Module):
    def collect(self) -> list[pytest.Item]:
        pytest.skip(TORCH_MISSING)


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if HAVE_TORCH:
        return None
    return _TorchMissing.from_parent(parent, path=module_path)
