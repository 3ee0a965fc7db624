"""Help ▸ Keys and Mouse: the reference card of every shortcut and mouse gesture."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

KEYS_HTML = """
<h3>Mouse (PACS scheme, as MITK)</h3>
<table cellpadding="2">
<tr><td>Wheel</td><td>zoom about the cursor</td></tr>
<tr><td>Middle drag, or left drag</td><td>pan</td></tr>
<tr><td>Right drag</td><td>window/level: right = wider, down = higher level</td></tr>
<tr><td>Shift + right drag</td><td>pan</td></tr>
<tr><td>Ctrl + right drag</td><td>zoom</td></tr>
</table>
<h3>Keys</h3>
<table cellpadding="2">
<tr><td>Ctrl+O / Ctrl+Shift+O</td><td>open files / open a folder (or drop them on the window)</td></tr>
<tr><td>=  /  1  /  Ctrl++ Ctrl+-</td><td>fit / actual pixels / zoom</td></tr>
<tr><td>I</td><td>invert</td></tr>
<tr><td>R / L</td><td>rotate right / left</td></tr>
<tr><td>H / V</td><td>flip horizontally / vertically</td></tr>
<tr><td>Space</td><td>reset the view</td></tr>
<tr><td>Ctrl+Shift+D</td><td>score the film as displayed (after you turned or flipped it)</td></tr>
<tr><td>Ctrl+Shift+M</td><td>score the film in the model's own orientation (as stored)</td></tr>
<tr><td>F2, F3, …</td><td>window/level presets (default, DICOM presets, full range)</td></tr>
<tr><td>W</td><td>left drag adjusts window/level instead of panning</td></tr>
<tr><td>O</td><td>heatmap overlay on/off</td></tr>
<tr><td>F12 / Shift+F12</td><td>corner text on/off / hide patient data</td></tr>
<tr><td>Ctrl+E / Ctrl+Shift+E / Ctrl+Shift+S</td><td>PDF report / batch summary PDF / batch CSV</td></tr>
<tr><td>Ctrl+T / Esc</td><td>sort batch by probability / cancel batch</td></tr>
<tr><td>Ctrl+Shift+Q</td><td>query/retrieve from a PACS</td></tr>
<tr><td>F1 / Ctrl+Q</td><td>this reference / quit (asks first while a batch runs or results are unexported)</td></tr>
<tr><td>Arrow keys (image focused)</td><td>scroll; in the study list: previous/next image</td></tr>
</table>
<p>The heatmap marks the regions that most influenced the score; it is not a lesion outline.</p>
"""


class KeysDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keys and mouse")
        self.text = QTextBrowser(self)
        self.text.setHtml(KEYS_HTML)
        self.text.setAccessibleName("Keys and mouse reference")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, Qt.Orientation.Horizontal, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(620, 600)
