"""core.scoring: the model's reading of a file (decode policy, file-changed check), folder-mode scoring with the
decode prefetch threads (same results, same order, prompt stop), and one audit line per file of a trail."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from pneumo_desktop.core import audit
from pneumo_desktop.core.audit import AuditTrail
from pneumo_desktop.core.errors import ImageLoadError
from pneumo_desktop.core.loader import load_image
from pneumo_desktop.core.scoring import iter_scored, model_input_for, read_for_model, score_shown
from tests.conftest import DICOM_DIR, SAMPLES, generic_films

FILES = generic_films(13)


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


def test_a_dicom_is_scored_from_the_decode_already_made(tiny_predictor) -> None:
    shown = load_image(DICOM_DIR / "dx_mono2_8bit_implicit_vr_uncompressed.dcm")
    scored = model_input_for(shown, tiny_predictor.size)
    assert scored is not shown and scored.pixels is shown.pixels  # no second decode, no pixel copy
    scored.warnings.append("added while scoring")
    assert "added while scoring" not in shown.warnings  # until the caller adopts it


def test_a_jpeg_is_read_again_the_models_way(tiny_predictor) -> None:
    path = sorted(SAMPLES.rglob("*.jpeg"))[0]
    scored = model_input_for(load_image(path), tiny_predictor.size)
    expected = read_for_model(path, tiny_predictor.size)
    assert scored.shape == expected.shape and np.array_equal(scored.pixels, expected.pixels)


def test_a_file_changed_between_the_reads_is_refused(tiny_predictor, tmp_path: Path) -> None:
    jpegs = sorted(SAMPLES.rglob("*.jpeg"))
    path = tmp_path / "film.jpeg"
    shutil.copy(jpegs[0], path)
    shown = load_image(path)
    shutil.copy(jpegs[1], path)
    with pytest.raises(ImageLoadError, match="changed while it was being read"):
        model_input_for(shown, tiny_predictor.size)


def test_a_trail_writes_one_line_per_file(tiny_predictor) -> None:
    trail = AuditTrail("gui")
    list(iter_scored(tiny_predictor, FILES[:3], audit_to=trail))
    list(iter_scored(tiny_predictor, FILES[:3], audit_to=trail))  # the same set scored again
    score_shown(tiny_predictor, FILES[0], lambda: load_image(FILES[0]), trail)  # a batch file on screen
    assert len(audit.read_lines(None)) == 3
    list(iter_scored(tiny_predictor, FILES[:1]))  # a new run of predict: its own trail
    assert [line["source"] for line in audit.read_lines(None)] == ["gui"] * 3 + ["cli"]


def test_a_result_that_will_not_be_shown_leaves_no_audit_line(tiny_predictor, tmp_path: Path) -> None:
    jpegs = sorted(SAMPLES.rglob("*.jpeg"))
    path = tmp_path / "film.jpeg"
    shutil.copy(jpegs[0], path)
    shown = load_image(path)
    shutil.copy(jpegs[1], path)  # replaced after the screen's decode, before the model's
    with pytest.raises(ImageLoadError, match="changed while it was being read"):
        score_shown(tiny_predictor, path, lambda: shown, "gui")
    assert audit.read_lines(None) == []


def test_thumbnails_are_the_same_for_the_window_and_the_cli(tiny_predictor) -> None:
    from pneumo_desktop.core.thumbnail import THUMB_SIDE

    (item,) = iter_scored(tiny_predictor, FILES[:1], audit_to=None, thumbnails=True)
    assert item.thumbnail is not None and item.thumbnail.dtype == np.uint8
    assert max(item.thumbnail.shape) == min(THUMB_SIDE, max(item.image.shape))
