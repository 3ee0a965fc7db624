"""The PySide6 desktop application. Nothing here is imported by the core, the CLI or training.

No module in this package imports ONNX Runtime or ``core.predictor`` at import time: the window must paint before
the model stack loads (see ``model_session.py``).
"""
