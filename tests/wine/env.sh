# The environment the Wine scripts here run in, sourced by each with NAME set (guard, tree):
# its binaries and Wine prefix are $XPLAT/wine-NAME-bin and $XPLAT/wine-NAME-prefix, unless BIN
# and WINEPREFIX say otherwise; XPLAT is XPLAT_DIR (default /tmp/xplat).
XPLAT=${XPLAT_DIR:-/tmp/xplat}
BIN=${BIN:-$XPLAT/wine-$NAME-bin}
export WINEPREFIX=${WINEPREFIX:-$XPLAT/wine-$NAME-prefix}
export PATH=/usr/lib/wine:/usr/bin:$PATH WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$XPLAT/target} RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
