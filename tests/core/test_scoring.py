"""Folder-mode scoring with the decode prefetch threads: same results, same order, prompt stop."""

from __future__ import annotations

from pathlib import Path

import pytest

from pneumo_desktop.core.scoring import iter_scored
from tests.conftest import KERMANY

FILES = [
    *sorted((KERMANY / "test" / "NORMAL").glob("*.jpg"))[:7],
    *sorted((KERMANY / "test" / "PNEUMONIA").glob("*.jpg"))[:6],
]


@pytest.fixture()
def inputs(tmp_path: Path) -> list[Path]:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return [*FILES[:5], bad, tmp_path / "missing.png", *FILES[5:]]


def _summary(items: list) -> list[tuple[str, float | None, bool]]:
    return [
        (
            item.path.name,
            None if item.prediction is None else round(item.prediction.probability, 6),
            item.error is None,
        )
        for item in items
    ]


@pytest.mark.parametrize("heatmap", [False, True])
def test_prefetch_gives_the_same_results_in_input_order(
    tiny_predictor, inputs: list[Path], heatmap: bool
) -> None:
    runs = {
        threads: list(
            iter_scored(
                tiny_predictor,
                inputs,
                batch_size=4,
                heatmap=heatmap,
                audit_to=None,
                decode_threads=threads,
            )
        )
        for threads in (0, 1, 2)
    }
    expected = _summary(runs[0])
    assert [name for name, _, _ in expected] == [p.name for p in inputs]
    assert [ok for _, _, ok in expected].count(False) == 2
    for threads in (1, 2):
        assert _summary(runs[threads]) == expected


def test_should_stop_ends_the_prefetching_run(tiny_predictor, inputs: list[Path]) -> None:
    seen: list[Path] = []
    results = iter_scored(
        tiny_predictor,
        inputs,
        batch_size=2,
        audit_to=None,
        decode_threads=1,
        should_stop=lambda: len(seen) >= 4,
    )
    for item in results:
        seen.append(item.path)
    assert len(seen) == 4


def test_abandoned_iteration_leaves_no_decode_thread(tiny_predictor, inputs: list[Path]) -> None:
    import gc
    import threading

    results = iter_scored(tiny_predictor, inputs, batch_size=2, audit_to=None, decode_threads=2)
    next(results)
    results.close()
    gc.collect()
    assert not [t for t in threading.enumerate() if t.name.startswith("pneumo-decode")]
