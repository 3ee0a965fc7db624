#!/usr/bin/env bash
# Builds the standalone Linux bundle from a clean checkout, in one command:
#
#   installer/build.sh    -> dist/pneumo-desktop-<version>/, dist/pneumo-desktop-<version>-linux-x86_64.tar.xz
#                            and dist/SHA256SUMS
#
# The folder carries its version, so an upgrade unpacks beside the old one instead of over it (stale files
# of the old version cannot linger); INSTALL.txt inside says how to install, upgrade and uninstall.
#
# It makes its own venv (build/venv-installer; build/ is git-ignored) with the app's runtime dependencies
# pinned by constraints/installer.txt (onnxruntime runs the model; no torch), then runs PyInstaller with
# installer/pneumo_desktop.spec. The model is taken from models/ (model.safetensors + model.onnx +
# model_card.json); PNEUMO_INSTALLER_MODELS=DIR takes it from elsewhere. Takes several minutes on 2 cores, so CI does not
# run it (installer/README.md). Then: installer/smoke_test.sh
#
# It fails, rather than build a bundle that cannot open its window, when the build machine lacks a library
# Qt's xcb plugin links (installer/bundle_checks.py names the apt packages), and after the build when the
# bundle does not carry them or has a broken symlink.
#
# Environment: PYTHON (default python3.11), PNEUMO_INSTALLER_MODELS, PNEUMO_INSTALLER_REUSE_VENV=1 (skip
# the pip step when the venv already has everything, for repeated builds).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PIP_DISABLE_PIP_VERSION_CHECK=1

PYTHON=${PYTHON:-python3.11}
VENV=build/venv-installer
WORK=build/pyinstaller
DIST=dist
NAME=pneumo-desktop
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' pneumo_desktop/__init__.py)
FOLDER="$NAME-$VERSION"
ARCHIVE="$DIST/$FOLDER-linux-x86_64.tar.xz"
MODELS=${PNEUMO_INSTALLER_MODELS:-$ROOT/models}
started=$(date +%s)
step() { echo "== [$(( $(date +%s) - started )) s] $*"; }

if [ ! -f "$MODELS/model.safetensors" ] || [ ! -f "$MODELS/model.onnx" ] || [ ! -f "$MODELS/model_card.json" ]; then
    echo "build.sh: no model in $MODELS (model.safetensors + model.onnx + model_card.json; \`pneumo-train" \
         "export-onnx --model-dir DIR\` writes model.onnx); set PNEUMO_INSTALLER_MODELS" >&2
    exit 2
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    echo "build.sh: $PYTHON is not Python 3.11 (set PYTHON=/path/to/python3.11)" >&2
    exit 2
fi

step "venv $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
if [ "${PNEUMO_INSTALLER_REUSE_VENV:-0}" != 1 ] || ! "$PY" -c "import PyInstaller, onnxruntime" 2>/dev/null; then
    # The runtime dependency list is pyproject's, so the bundle cannot drift from the package; the
    # constraints pin everything to what the source install was tested with.
    "$PY" -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > build/installer-requirements.txt
    "$PY" -m pip install -q -c constraints/installer.txt -r build/installer-requirements.txt \
        pyinstaller pyinstaller-hooks-contrib
fi
# torch (385 MB of the old bundle) must not come back through a stray dependency; nor a GPU onnxruntime.
"$PY" - <<'EOF'
import importlib.metadata as md, sys
import onnxruntime
names = {d.metadata["Name"].lower() for d in md.distributions()}
problems = [f"{n} is installed" for n in sorted(names)
            if n in {"torch", "torchvision", "onnx", "onnxruntime-gpu"} or n.startswith("nvidia-")]
if problems:
    sys.exit("build.sh: " + "; ".join(problems) + " in the build venv: the app runs the model with onnxruntime "
             "(CPU) only (constraints/installer.txt)")
print(f"onnxruntime {onnxruntime.__version__}, no torch")
EOF
step "xcb libraries on the build machine"
QT_DIR=$("$PY" -c "import PySide6, pathlib; print(pathlib.Path(PySide6.__file__).parent / 'Qt')")
"$PY" installer/bundle_checks.py preflight "$QT_DIR"

step "PyInstaller"
rm -rf "${DIST:?}/$NAME" "${DIST:?}/$FOLDER" "$ARCHIVE" "$DIST/SHA256SUMS"
PNEUMO_INSTALLER_MODELS="$MODELS" "$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" installer/pneumo_desktop.spec

mv "$DIST/$NAME" "$DIST/$FOLDER"
BUNDLE="$DIST/$FOLDER"
# Desktop integration beside the executable, and the notices where a person looks first.
cp resources/pneumo-desktop.desktop resources/icons/app.png "$BUNDLE/"
mv "$BUNDLE/app.png" "$BUNDLE/pneumo-desktop.png"
cp installer/install-desktop-entry.sh "$BUNDLE/"
ln -s _internal/LICENSES "$BUNDLE/LICENSES"
sed "s/@VERSION@/$VERSION/g" installer/INSTALL.txt > "$BUNDLE/INSTALL.txt"

step "bundle checks"
"$PY" installer/bundle_checks.py bundle "$BUNDLE"

step "$ARCHIVE"
# xz: 89 MiB against gzip's 116 MiB and zstd -19's 95 MiB for the 287 MiB bundle, in ~90 s on 2 cores
# (installer/README.md); every distribution's tar unpacks it (tar -xJf) without another package.
tar -C "$DIST" -cf - "$FOLDER" | xz -6 -T0 > "$ARCHIVE.part"
mv "$ARCHIVE.part" "$ARCHIVE"
(cd "$DIST" && sha256sum "$(basename "$ARCHIVE")" > SHA256SUMS)

elapsed=$(( $(date +%s) - started ))
echo "built $BUNDLE ($(du -sh "$BUNDLE" | cut -f1) unpacked) and $ARCHIVE ($(du -h "$ARCHIVE" | cut -f1);" \
     "sha256 in $DIST/SHA256SUMS) in ${elapsed} s"
echo "next: installer/smoke_test.sh $BUNDLE"
