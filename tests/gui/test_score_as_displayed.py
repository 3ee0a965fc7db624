"""Score as Displayed: the reader turns the film in the viewer and scores it as shown (issue 12)."""

from __future__ import annotations

import numpy as np

from pneumo_desktop.core.orientation import ORIENTATIONS
from pneumo_desktop.core.scoring import read_for_model
from tests.gui.conftest import WAIT_MS, sample


def test_turned_in_the_viewer_then_scored_as_displayed(qtbot, window, tiny_predictor) -> None:
    path = sample()
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS) as first:
        window.controller.show_file(path)
    assert first.args[0].prediction.rejected is None
    window.actions.rotate_left.trigger()  # the view now shows the film turned 90° counter-clockwise
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS) as again:
        window.actions.score_displayed.trigger()
    result = again.args[0]
    assert any(w.startswith("Scored as displayed") for w in result.image.warnings)
    # The number is the model's reading of the film turned as shown ...
    image = read_for_model(path, tiny_predictor.size)
    expected = tiny_predictor.predict(image, heatmap=True, displayed=ORIENTATIONS.index("rot90"))
    assert abs(result.prediction.probability - expected.probability) < 1e-6
    # ... and its heatmap is the one registered to the stored film (the view turns it with the image; the
    # mapping itself is tested in tests/core/test_gate.py).
    assert result.prediction.cam is not None and expected.cam is not None
    np.testing.assert_allclose(result.prediction.cam, expected.cam, atol=1e-5)
    assert window.view.has_heatmap()
    # A second request replaces the first's notes instead of piling them up.
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS) as third:
        window.actions.score_displayed.trigger()
    notes = [w for w in third.args[0].image.warnings if w.startswith("Scored as displayed")]
    assert len(notes) == 1
    assert np.isfinite(third.args[0].prediction.probability)
