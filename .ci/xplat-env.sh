# Sourced by .ci/xplat and .ci/wine: the environment that builds reaper for macOS and Windows on
# Debian 12 (bookworm) x86_64 without rustup targets. Debian's rustc-web 1.96 with rust-web-src
# (the std sources of that same compiler) builds std for each target with -Zbuild-std.
# Adapted from ../shared/tools/xplat-check.sh.
#   XPLAT_DIR         cache (Darwin headers, target dir, logs); default /tmp/xplat, outside the
#                     clone so that repeated runs on one machine are fast
#   XPLAT_NO_INSTALL  set: install nothing (fail instead when something is missing)

XPLAT=${XPLAT_DIR:-/tmp/xplat}
mkdir -p "$XPLAT/logs"

# One run at a time per cache: two runs on one machine (CI of two checkouts at once) would write
# the same logs, race on apt and on the headers' download, and share the Wine prefix, whose
# wineserver one run shuts down under the other (cargo locks only its own target dir). So the
# sourcing script (.ci/xplat, .ci/wine, after its `cd` to the clone) runs again under flock(1),
# with `-o`: nothing it starts holds the lock after it (a wineserver that outlives the script).
if [ -z "${XPLAT_LOCKED:-}" ] && [ -n "${BASH_SOURCE[1]:-}" ]; then
  flock -n "$XPLAT/lock" true || echo "== waiting for another run that uses $XPLAT (lock: $XPLAT/lock)"
  exec env XPLAT_LOCKED=1 flock -o "$XPLAT/lock" bash ".ci/$(basename "${BASH_SOURCE[1]}")" "$@"
fi
export CARGO_TARGET_DIR=$XPLAT/target
xplat_t0=$SECONDS
step() { echo "== $* (t=$((SECONDS - xplat_t0))s)"; }

# Installs the Debian packages named (PACKAGE...) that are not installed yet.
apt_need() {
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ -n "${XPLAT_NO_INSTALL:-}" ]; then echo "missing packages: ${missing[*]}" >&2; return 1; fi
  step "apt: ${missing[*]}"
  # Another run on the machine may be installing at the same time: wait for its lock.
  local wait=(-o DPkg::Lock::Timeout=600)
  DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# rust-web-* come from bookworm-security; rustc-web and rust-web-src must be the same version.
# windows-gnu needs mingw's dlltool even for `check`; netstat2's build script runs bindgen on
# <libproc.h> for macOS, which needs libclang 14 and its resource dir.
apt_need rustc-web cargo-web rust-web-src rust-web-clippy binutils-mingw-w64-x86-64 \
  libclang1-14 libclang-common-14-dev python3-pip || return 1
v1=$(dpkg-query -W -f='${Version}' rustc-web)
v2=$(dpkg-query -W -f='${Version}' rust-web-src)
[ "$v1" = "$v2" ] || { echo "rustc-web $v1 != rust-web-src $v2" >&2; return 1; }

# Darwin libc headers (for bindgen) from the ziglang wheel on PyPI: 8 MB of a 101 MB wheel.
HDR=$XPLAT/zig/ziglang/lib/libc/include/any-darwin-any
if [ ! -f "$HDR/libproc.h" ]; then
  step "pip: ziglang wheel for the Darwin headers"
  mkdir -p "$XPLAT/zig" &&
    (cd "$XPLAT/zig" && python3 -m pip download -q --no-deps "ziglang==${ZIG_VERSION:-0.17.1}" -d . &&
      python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); p = "ziglang/lib/libc/include/any-darwin-any/"
z.extractall(".", [n for n in z.namelist() if n.startswith(p)])' ziglang-*.whl && rm -f ziglang-*.whl) || return 1
fi
RES=$(ls -d /usr/lib/llvm-14/lib/clang/*/ | tail -1)
export LIBCLANG_PATH=/usr/lib/llvm-14/lib
export BINDGEN_EXTRA_CLANG_ARGS="-resource-dir $RES -isystem $HDR"
# Debian's toolchain by full path, ahead of rustup's shims; -Zbuild-std needs RUSTC_BOOTSTRAP.
export PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TERM_COLOR=never
unset RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER
# mingw's gcc links the Windows build (.ci/wine). Set for the checks too: cargo's fingerprint
# includes the target's linker, and a check without it and a build with it rebuilt std and every
# dependency for windows-gnu each time (149 s + 198 s a CI run, measured).
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
BUILD_STD=-Zbuild-std=std,panic_abort
