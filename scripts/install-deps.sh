#!/usr/bin/env bash
# Every Debian package the project needs, in one list. Installs only what is
# missing (apt-get as root); quick when everything is there.
set -euo pipefail
PACKAGES=(
  clang-14 lld-14 llvm-14        # the wasm32-wasi build, and libFuzzer natively
  libclang-rt-14-dev             # ASan/UBSan/libFuzzer runtimes for clang
  libclang-rt-14-dev-wasm32      # compiler builtins for wasm32
  wasi-libc                      # the C library of the wasi build
  emscripten binaryen            # the second wasm build
  cmake make gcc dpkg-dev        # native build; dpkg-source unpacks cJSON's source package
  ca-certificates
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null || missing+=(nodejs)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
