"""The About box: version, the model card in force and the licence notices of what we ship."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from pneumo_desktop import DISCLAIMER, __version__, licence_index
from pneumo_desktop.core import result_text

if TYPE_CHECKING:
    from pneumo_desktop.core.model_card import ModelCard



def about_html(card: ModelCard | None, model_error: str | None = None) -> str:
    e = html.escape
    parts = [f"<h2>pneumo_desktop {e(__version__)}</h2>", f"<p>{e(DISCLAIMER)}</p>", "<h3>Model</h3>"]
    if card is None:
        parts.append(f"<p>{e(model_error or 'The model is still loading.')}</p>")
    else:
        parts.append(f"<p><b>{e(card.display_name)}</b> ({e(card.architecture.get('name', ''))})<br>")
        parts.append(f"Model fingerprint (weights + card): <code>{e(card.fingerprint)}</code><br>")
        parts.append(f"Decision threshold: {e(result_text.percent(card.threshold))}<br>")
        parts.append(f"Intended population: {e(result_text.intended_population_text(card))}</p>")
        lines = result_text.metric_lines(card)
        parts.append(f"<p>{e(result_text.metrics_heading(card))}{':' if lines else ''}</p>")
        if lines:
            parts.append("<ul>" + "".join(f"<li>{e(name)}: {e(value)}</li>" for name, value in lines) + "</ul>")
    parts.append("<h3>Licences</h3><table>")
    parts += [f"<tr><td>{e(name)}</td><td>&nbsp;{e(lic)}</td></tr>" for name, lic in licence_index.notices()]
    parts.append("</table>")
    return "".join(parts)


class AboutDialog(QDialog):
    def __init__(self, card: ModelCard | None, model_error: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About pneumo_desktop")
        self.setAccessibleName("About pneumo_desktop")
        self.text = QTextBrowser(self)
        self.text.setOpenExternalLinks(False)
        self.text.setHtml(about_html(card, model_error))
        self.text.setAccessibleName("About text")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, Qt.Orientation.Horizontal, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(560, 560)
