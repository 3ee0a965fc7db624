from pneumo_desktop.launcher import run

run()
