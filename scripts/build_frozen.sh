#!/usr/bin/env bash
# Builds the one-folder application with PyInstaller (dist/nest-desktop/) and checks it:
# the frozen build, away from the source tree, passes its --self-test offscreen.
# Usage: scripts/build_frozen.sh   (after scripts/bootstrap.sh test)
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv/bin/python
[ -x "$python" ] || python=python3

"$python" -m pip install -q -e '.[build]'
rm -rf build/nest_desktop dist/nest-desktop
"$python" -m PyInstaller packaging/nest_desktop.spec --noconfirm --log-level WARN

# Run from an empty folder with its own settings: nothing of the source tree may be used;
# today, then with the clock on a 29 February late in the evening.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for moment in "" "2028-02-29T23:30"; do
  (cd "$work" && QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME="$work/config" \
    XDG_DATA_HOME="$work/data" "$OLDPWD/dist/nest-desktop/nest-desktop" --self-test \
    ${moment:+--now "$moment"})
done
