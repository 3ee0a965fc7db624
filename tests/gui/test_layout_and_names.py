"""The Result panel cannot be squeezed unreadable (nor restored so); View ▸ Reset Layout; list names elided
where they are alike, never where they differ."""

from __future__ import annotations

from PySide6.QtCore import Qt

from pneumo_desktop import app
from pneumo_desktop.gui.name_elide import distinguishing_elide, shared_affixes
from pneumo_desktop.gui.settings import Settings
from pneumo_desktop.gui.window_layout import RESULT_DOCK_WIDTH

KERMANY_LIKE = ["NORMAL2-IM-1427-0001.jpeg", "NORMAL2-IM-1430-0001.jpeg", "NORMAL2-IM-1431-0001.jpeg",
                "IM-0001-0001.jpeg", "person1_virus_6.jpeg"]


def _fits(limit: int):
    return lambda text: len(text) <= limit


def test_names_keep_the_part_that_differs() -> None:
    affixes = shared_affixes(KERMANY_LIKE)
    shown = [distinguishing_elide(name, p, s, _fits(12), lambda t: t[:11] + "…")
             for name, (p, s) in zip(KERMANY_LIKE, affixes, strict=True)]
    assert len(set(shown)) == len(shown), shown
    assert all(len(text) <= 12 for text in shown)
    assert "1427" in shown[0] and "1430" in shown[1] and "1431" in shown[2]
    assert distinguishing_elide("short.png", 0, 0, _fits(12), lambda t: t) == "short.png"


def test_hidden_names_keep_their_number() -> None:
    names = [f"Image {i} · sha256 {i:012x}" for i in range(1, 13)]
    shown = [distinguishing_elide(n, p, s, _fits(10), lambda t: t[:9] + "…")
             for n, (p, s) in zip(names, shared_affixes(names), strict=True)]
    assert len(set(shown)) == 12, shown


def _build(qtbot, settings: Settings, size: tuple[int, int] = (1280, 720)):
    window = app.build(settings=settings)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


def _squashed_state(qtbot) -> Settings:
    """What an older version saved after the Result panel was dragged to ~70 px."""
    settings = Settings()
    window = _build(qtbot, settings)
    window.result_dock.widget().setMinimumWidth(0)
    window.prediction_panel.setMinimumWidth(0)
    window.resizeDocks([window.result_dock], [70], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: window.result_dock.width() < 120)
    window.save_settings()
    window.close()
    return settings


def _readable(window) -> bool:
    panel = window.prediction_panel
    return (window.result_dock.width() >= window.result_dock.widget().minimumWidth()
            and panel.headline.width() >= panel.headline.fontMetrics().horizontalAdvance("> 99.9 %"))


def test_a_squashed_saved_layout_is_restored_readable(qtbot) -> None:
    settings = _squashed_state(qtbot)
    for size in ((1280, 720), (1920, 1080)):
        window = _build(qtbot, Settings(), size)
        qtbot.waitUntil(lambda window=window: _readable(window))
        assert window.result_dock.isVisible() and not window.result_dock.isFloating()
        window.close()
    assert not settings.window_state.isEmpty()


def test_the_result_panel_cannot_be_dragged_narrower_than_readable(qtbot, model_env) -> None:
    window = _build(qtbot, Settings())
    window.resizeDocks([window.result_dock], [40], Qt.Orientation.Horizontal)
    qtbot.wait(20)
    assert _readable(window)


def test_a_closed_result_panel_comes_back_on_restart_and_reset_layout_restores_it(qtbot) -> None:
    window = _build(qtbot, Settings())
    window.result_dock.close()
    window.save_settings()
    window.close()
    again = _build(qtbot, Settings())
    assert again.result_dock.isVisible()
    again.result_dock.setFloating(True)
    again.actions.reset_layout.trigger()
    qtbot.waitUntil(lambda: abs(again.result_dock.width() - RESULT_DOCK_WIDTH) < 40)
    assert again.result_dock.isVisible() and not again.result_dock.isFloating()
    assert "Reset Layout" in [a.text().replace("&", "") for a in again.menuBar().actions()[1].menu().actions()]
