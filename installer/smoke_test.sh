#!/usr/bin/env bash
# Smoke test of the built bundle, in one command (after installer/build.sh):
#
#   installer/smoke_test.sh [BUNDLE_DIR]      default: dist/pneumo-desktop
#
# `predict` on sample JPEGs and DICOMs (every codec) must give the source install's probabilities to 1e-4,
# `report` must write PDFs, the window must start offscreen and audit the same prediction, and nothing
# may be written outside the per-user folders. Details in installer/smoke_test.py.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3
exec "$PY" "$ROOT/installer/smoke_test.py" "$@"
