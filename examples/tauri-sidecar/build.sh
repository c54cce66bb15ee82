#!/usr/bin/env bash
# Builds the example: the sidecar (PyInstaller onefile, from sidecar/server.py) and the two apps
# (tauri-sidecar: reaper::guard; tauri-sidecar-baseline: tauri-plugin-shell), and puts the
# sidecar beside them as Tauri installs an `externalBin`. The last two lines of the output are
# `SIDECAR=<path>` and `APP=<path>`; the line before them is `BASELINE=<path>`.
#
# Needs: cargo, python3 with venv, Debian's libwebkit2gtk-4.1-dev, libgtk-3-dev and
# librsvg2-dev. Caches (kept between runs, outside the repository unless set):
#   CARGO_TARGET_DIR      the app's cargo target dir   (default /tmp/tauri-sidecar-target)
#   SIDECAR_BUILD_DIR     the venv and PyInstaller's  (default /tmp/tauri-sidecar-py)
#   PROFILE               debug or release           (default debug)
#   BIN_DIR               if set, the three executables are copied there and the paths printed
#                         are those copies (default: in the target dir, where the next build
#                         of any checkout that shares the caches replaces them)
# Builds that share a cache take turns: each holds a lock on both caches (flock) until its
# executables are in place, so that two checkouts never build into one cache at once.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/tauri-sidecar-target}"
py="${SIDECAR_BUILD_DIR:-/tmp/tauri-sidecar-py}"
profile="${PROFILE:-debug}"
pyinstaller_version="6.22.3"

# Always in this order (the sidecar's cache, then cargo's), so that two builds cannot deadlock.
mkdir -p "$py" "$CARGO_TARGET_DIR"
exec 8>"$py/.lock" 9>"$CARGO_TARGET_DIR/.tauri-sidecar.lock"
flock 8
flock 9

# The sidecar: rebuilt only when server.py or the PyInstaller version changed.
if [ ! -x "$py/venv/bin/pyinstaller" ] || [ "$("$py/venv/bin/pyinstaller" --version 2>/dev/null)" != "$pyinstaller_version" ]; then
  rm -rf "$py/venv"
  mkdir -p "$py"
  python3 -m venv "$py/venv"
  "$py/venv/bin/pip" install --quiet --disable-pip-version-check "pyinstaller==$pyinstaller_version" >&2
fi
stamp="$(sha256sum "$here/sidecar/server.py" | cut -d' ' -f1)-$pyinstaller_version"
if [ ! -x "$py/dist/tauri-sidecar-server" ] || [ "$(cat "$py/stamp" 2>/dev/null)" != "$stamp" ]; then
  "$py/venv/bin/pyinstaller" --onefile --noconfirm --clean --log-level WARN --name tauri-sidecar-server \
    --distpath "$py/dist" --workpath "$py/work" --specpath "$py" "$here/sidecar/server.py" >&2
  echo "$stamp" > "$py/stamp"
fi

# The apps.
release=()
[ "$profile" = release ] && release=(--release)
(cd "$here" && cargo build "${release[@]}" --bins >&2)
out="$CARGO_TARGET_DIR/$profile"
# Replaced only when it changed: a running (or stale) sidecar keeps its executable's identity.
cmp -s "$py/dist/tauri-sidecar-server" "$out/tauri-sidecar-server" ||
  install -m 0755 "$py/dist/tauri-sidecar-server" "$out/tauri-sidecar-server"

if [ -n "${BIN_DIR:-}" ]; then
  mkdir -p "$BIN_DIR"
  cp "$out/tauri-sidecar-baseline" "$out/tauri-sidecar-server" "$out/tauri-sidecar" "$BIN_DIR/"
  out="$(cd "$BIN_DIR" && pwd)"
fi

echo "BASELINE=$out/tauri-sidecar-baseline"
echo "SIDECAR=$out/tauri-sidecar-server"
echo "APP=$out/tauri-sidecar"
