#!/usr/bin/env bash
# The README's test command: install app + train + dev extras with the pinned constraints, lint, check
# import contracts, run the whole test suite. Usage: bash scripts/test.sh [--venv DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
if [ "${1:-}" = "--venv" ]; then VENV=$2; fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 QT_QPA_PLATFORM=offscreen
[ -x "$VENV/bin/python" ] || python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
PY=$VENV/bin/python
$PY -m pip install -q -c constraints/dev.txt -e ".[train,dev]"
# Qt needs a few system libraries even offscreen; install them where we can (CI runs as root).
if ! $PY -c "from PySide6 import QtWidgets" 2>/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 >/dev/null
fi
# The DICOM tests validate every object with dciodvfy, the SR with PixelMed's template check and DCMTK's
# dsrdump, and run against a real Orthanc and DCMTK (dcmqrscp, storescp): install them where we can (CI runs as root); where we cannot, those
# tests skip and say why in the summary.
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] \
        && ! { command -v dciodvfy >/dev/null && command -v Orthanc >/dev/null && command -v dsrdump >/dev/null \
               && command -v dcmqrscp >/dev/null \
               && [ -f /usr/share/java/pixelmed.jar ]; }; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        dicom3tools orthanc dcmtk pixelmed-apps >/dev/null \
        || echo "dicom3tools/orthanc/dcmtk/pixelmed-apps could not be installed: their tests will skip"
fi
echo "== ruff";        $VENV/bin/ruff check pneumo_desktop training tests benchmarks installer scripts
echo "== mypy (core)"; $VENV/bin/mypy
echo "== import contracts"; $VENV/bin/lint-imports
echo "== pytest"
set +e
$PY -m pytest -q -p no:cacheprovider --timeout=600 "${@:3}"
rc=$?
set -e
[ "$rc" -eq 5 ] && { echo "no tests collected"; exit 1; }
exit "$rc"
