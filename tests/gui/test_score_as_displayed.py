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


def _scored_as_displayed(qtbot, window, *turns) -> object:
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS):
        window.controller.show_file(sample())
    automatic = window.controller.current_result
    for turn in turns:
        turn.trigger()
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS) as scored:
        window.actions.score_displayed.trigger()
    assert scored.args[0].prediction.displayed is not None
    return automatic


def test_space_after_score_as_displayed_scores_the_upright_film_again(qtbot, window, tiny_predictor) -> None:
    """Issue 24 A2: Space returns the film as stored; the reader-oriented result (its number, its "Scored as
    displayed" note, its turned heatmap) does not stay beside it."""
    automatic = _scored_as_displayed(qtbot, window, window.actions.rotate_left)
    assert window.prediction_panel.warnings()[0].startswith("Scored as displayed")
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS) as again:
        window.actions.reset.trigger()
    result = again.args[0]
    assert result.prediction.displayed is None
    assert result.prediction.probability == automatic.prediction.probability
    assert not any(w.startswith("Scored as displayed") for w in window.prediction_panel.warnings())
    assert "%" in window.prediction_panel.headline.text()
    np.testing.assert_allclose(result.prediction.cam, automatic.prediction.cam, atol=1e-6)
    assert window.view.has_heatmap()


def test_a_turn_after_score_as_displayed_marks_the_result_for_another_orientation(qtbot, window) -> None:
    _scored_as_displayed(qtbot, window, window.actions.rotate_left)
    scored = window.prediction_panel.headline.text()
    window.actions.flip_h.trigger()
    assert window.prediction_panel.headline.text() == "For another orientation"
    assert "Ctrl+Shift+D" in window.prediction_panel.meaning.text()
    assert not window.view.has_heatmap() and window.prediction_panel.bar.probability is None
    window.actions.flip_h.trigger()  # back to the orientation it was scored in: the result is shown again
    assert window.prediction_panel.headline.text() == scored and window.view.has_heatmap()

    # The menu item returns to the model's own orientation and its reading.
    window.actions.rotate_right.trigger()
    with qtbot.waitSignal(window.controller.prediction_ready, timeout=WAIT_MS) as again:
        window.actions.score_model.trigger()
    assert again.args[0].prediction.displayed is None
    assert window.view.orientation().isIdentity()
    assert "%" in window.prediction_panel.headline.text()
