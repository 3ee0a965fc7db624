"""Headless core shared by the app, the CLI and training. Never imports Qt."""
