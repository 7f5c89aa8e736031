#!/usr/bin/env bash
# Every Debian (bookworm) package the project needs, in one list. Installs
# only what is missing: one dpkg-query when everything is there (well under a
# second), apt-get update + install otherwise. Runs apt-get as root (sudo
# when not root). Node.js 20+ is expected from NodeSource; Debian's nodejs
# (18) is installed only when no node exists at all.
set -euo pipefail

PACKAGES=(
  clang-14 lld-14 llvm-14     # wasm32-wasi build (clang, wasm-ld, llvm-ar), libFuzzer natively
  libclang-rt-14-dev          # ASan, UBSan and libFuzzer runtimes for clang-14
  libclang-rt-14-dev-wasm32   # compiler builtins for wasm32
  wasi-libc                   # the C library of the wasi build
  emscripten binaryen         # the Emscripten build (emcc runs wasm-opt)
  cmake make gcc pkg-config   # native build
  libcjson-dev                # optional native build against the system cJSON (-DSY_SYSTEM_CJSON=ON)
  dpkg-dev ca-certificates    # dpkg-source unpacks cJSON's Debian source package
  wabt                        # wasm-objdump, to inspect the modules
  redis-server                # shared-state store tests
  chromium                    # browser tests (driven by playwright-core, no browser download)
  valgrind                    # memory checks of the native build beside ASan
)

missing=()
while read -r pkg status; do
  [ "$status" = "ii" ] || missing+=("$pkg")
done < <(for p in "${PACKAGES[@]}"; do
  printf '%s %s\n' "$p" "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | tr -d ' ')"
done)
command -v node >/dev/null || missing+=(nodejs npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} Debian packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  "${missing[@]}" >/dev/null
echo "install-deps: done"
