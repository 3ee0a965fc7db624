"""Training package: fits the bundled CNN on the Kermany split and writes the weights + model card the app loads.

Depends on ``pneumo_desktop.core`` for the network, the preprocessing and the weights format (never on the GUI).
"""
