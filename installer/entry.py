"""What the frozen executables run: the same entry point as the `pneumo-desktop` console script."""

import multiprocessing

from pneumo_desktop.launcher import run

if __name__ == "__main__":
    # Any library that spawns a worker process re-runs this exe; without this the child would open a window.
    multiprocessing.freeze_support()
    run()
