#!/usr/bin/env bash
# Adds pneumo_desktop to the desktop's application menu and "Open with" list for the current user.
# Ships inside the bundle, beside the executable: run it from the unpacked folder, wherever that is.
#
#   ./install-desktop-entry.sh              menu entry, icon, and ~/.local/bin/pneumo-desktop
#   ./install-desktop-entry.sh --uninstall  remove them again (the bundle folder itself is left alone)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
APPS="$DATA/applications"
ICONS="$DATA/icons/hicolor/256x256/apps"
BIN="$HOME/.local/bin"

refresh() {
    command -v update-desktop-database >/dev/null && update-desktop-database -q "$APPS" || true
    command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$APPS/pneumo-desktop.desktop" "$ICONS/pneumo-desktop.png"
    if [ -L "$BIN/pneumo-desktop" ]; then rm -f "$BIN/pneumo-desktop"; fi
    refresh
    echo "removed the pneumo_desktop menu entry"
    exit 0
fi

if [ ! -x "$HERE/pneumo-desktop" ]; then
    echo "install-desktop-entry.sh: run it from the unpacked pneumo-desktop folder" >&2
    exit 2
fi
mkdir -p "$APPS" "$ICONS" "$BIN"
cp "$HERE/pneumo-desktop.png" "$ICONS/pneumo-desktop.png"
# The menu runs the executable by its absolute path, so the folder need not be on PATH.
sed -e "s|^Exec=.*|Exec=\"$HERE/pneumo-desktop\" %F|" -e "s|^TryExec=.*|TryExec=$HERE/pneumo-desktop|" \
    "$HERE/pneumo-desktop.desktop" > "$APPS/pneumo-desktop.desktop"
ln -sfn "$HERE/pneumo-desktop" "$BIN/pneumo-desktop"
refresh
echo "added pneumo_desktop to the application menu; 'pneumo-desktop' is in $BIN"
