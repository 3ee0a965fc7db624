"""The About box: version, the model card in force and the licence notices of what we ship."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from pneumo_desktop import DISCLAIMER, __version__
from pneumo_desktop.core import result_text

if TYPE_CHECKING:
    from pneumo_desktop.core.model_card import ModelCard

LICENCES = (
    ("pneumo_desktop", "MIT"),
    (f"Qt {qVersion()} and PySide6 {pyside_version}", "LGPL-3.0 (dynamically linked; you may replace them)"),
    ("PyTorch", "BSD-3-Clause"),
    ("NumPy", "BSD-3-Clause"),
    ("Pillow", "MIT-CMU (HPND)"),
    ("pydicom", "MIT"),
    ("pylibjpeg, pylibjpeg-openjpeg, pylibjpeg-rle", "MIT (OpenJPEG: BSD-2-Clause)"),
    ("pyjpegls (CharLS)", "BSD-3-Clause"),
    ("python-gdcm", "Apache-2.0 (wrapper); GDCM library BSD-3-Clause"),
    ("safetensors", "Apache-2.0"),
    ("platformdirs", "MIT"),
    ("fpdf2", "LGPL-3.0"),
    ("DejaVu Sans fonts (reports)", "Bitstream Vera licence; DejaVu changes public domain"),
    ("Droid Sans Fallback font (reports)", "Apache-2.0"),
    ("NanumSquare font (reports)", "SIL OFL 1.1"),
    ("Colour map viridis", "CC0 (van der Walt, Smith, Firing)"),
    ("Training images: Kermany et al. 2018", "CC BY 4.0"),
)


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
    parts += [f"<tr><td>{e(name)}</td><td>&nbsp;{e(lic)}</td></tr>" for name, lic in LICENCES]
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
