#!/usr/bin/env bash
# Installs what NEST Desktop needs on Debian or Ubuntu, from a fresh machine:
#   - the system libraries Qt needs (only the missing ones, with apt-get);
#   - a virtual environment in .venv with the application ("test": and the test tools).
# Usage: scripts/bootstrap.sh [test]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libglib2.0-0 libgl1 libegl1 libxkbcommon0 libx11-6 libfontconfig1 libfreetype6
  libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libx11-xcb1 libgssapi-krb5-2
  libcups2 fonts-dejavu-core)
if [ "${1:-}" = "test" ]; then
  # binutils: PyInstaller reads libraries with objdump; postgresql: the suite runs on it too
  # kannel, kannel-extras: the SMS tests run against the real Kannel gateway and its fakesmsc
  packages+=(xvfb xauth poppler-utils binutils postgresql kannel kannel-extras)
fi
# Debian's own Python needs python3-venv to make a virtual environment.
python3 -c "import ensurepip" 2>/dev/null || packages+=(python3-venv python3-pip)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "${1:-}" = "test" ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
else
  .venv/bin/python -m pip install -q -e .
fi
