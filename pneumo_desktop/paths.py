"""The one place that knows where bundled files and per-user folders live.

Works from a source checkout, an installed wheel and a PyInstaller bundle. Per-user folders follow
platformdirs and can be redirected with ``PNEUMO_DESKTOP_HOME`` (tests, portable installs).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from platformdirs import PlatformDirs

APP_DIR_NAME = "pneumo_desktop"
HOME_ENV = "PNEUMO_DESKTOP_HOME"
MODELS_ENV = "PNEUMO_DESKTOP_MODELS"
log = logging.getLogger(__name__)
_UNWRITABLE: dict[str, str] = {}
_WHAT_IS_LOST = {"config": "settings", "cache": "cached files", "state": "the audit log and the log file"}


def _bundle_root() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root)
    package_dir = Path(__file__).resolve().parent
    # Source checkout (or editable install): models/ and resources/ sit beside the package.
    checkout = package_dir.parent
    if (checkout / "models").is_dir() and (checkout / "resources").is_dir():
        return checkout
    # Installed wheel: setuptools data-files put them under <prefix>/share/pneumo_desktop.
    return Path(sys.prefix) / "share" / APP_DIR_NAME


def models_dir() -> Path:
    override = os.environ.get(MODELS_ENV)
    return Path(override) if override else _bundle_root() / "models"


def resources_dir() -> Path:
    return _bundle_root() / "resources"


def _user_dirs() -> PlatformDirs:
    return PlatformDirs(APP_DIR_NAME, appauthor=False)


def _user_dir(kind: str) -> Path:
    override = os.environ.get(HOME_ENV)
    if override:
        path = Path(override) / kind
    else:
        dirs = _user_dirs()
        path = Path({"config": dirs.user_config_dir, "cache": dirs.user_cache_dir, "state": dirs.user_state_dir}[kind])
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        # The window must still start and score (nothing it shows depends on these folders); what cannot
        # be saved is said once, with where, and each writer copes with its own OSError.
        if kind not in _UNWRITABLE:
            _UNWRITABLE[kind] = f"{path} ({exc.strerror or exc})"
            log.warning("the %s folder %s cannot be created (%s): %s will not be saved", kind, path,
                        exc.strerror or exc, _WHAT_IS_LOST[kind])
    return path


def unwritable_user_dirs() -> dict[str, str]:
    """Per-user folders that could not be created so far: kind ("config", "state"...) -> "path (reason)",
    for a window to tell the user once."""
    return dict(_UNWRITABLE)


def config_dir() -> Path:
    return _user_dir("config")


def cache_dir() -> Path:
    return _user_dir("cache")


def state_dir() -> Path:
    return _user_dir("state")


def inbox_dir(part: str = "") -> Path:
    """Where films from the network land (received, retrieved) and results wait to be sent: under the state
    folder, never beside the user's own files. Created on demand; OSError when it cannot be."""
    path = state_dir() / "inbox" / part if part else state_dir() / "inbox"
    path.mkdir(parents=True, exist_ok=True)
    return path
