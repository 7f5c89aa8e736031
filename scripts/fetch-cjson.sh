#!/usr/bin/env bash
# cJSON comes from Debian's source package, pinned by version and checksum,
# never from a copy in this repository. The fetch uses a private apt
# configuration (its own deb-src list, state and cache under build/), so the
# machine's apt setup is left exactly as it was. Output: build/cjson/.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.7.15-1+deb12u4
SHA_C=5c5ab83a24eecfebc25b6aa4d47dbdb5f23d1baec92de75fec5f0528dbe255a7
SHA_H=c25b54ebc98e814eb7b3eeaf12ce899806f87ff5a275b20a3b77dbb3968e5d0b
OUT=build/cjson

sums_ok() {
  [ -f "$OUT/cJSON.c" ] && [ -f "$OUT/cJSON.h" ] &&
    echo "$SHA_C  $OUT/cJSON.c" | sha256sum --quiet -c - 2>/dev/null &&
    echo "$SHA_H  $OUT/cJSON.h" | sha256sum --quiet -c - 2>/dev/null
}
if sums_ok; then exit 0; fi

APT=$(pwd)/build/apt
rm -rf "$APT" && mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/src"
# A deb-src twin of the system's own Debian source, so no new host is named.
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$APT/debian-src.sources"
  LIST=(-o "Dir::Etc::SourceParts=$APT" -o "Dir::Etc::SourceList=/dev/null")
else
  sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$APT/sources.list"
  LIST=(-o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=/nonexistent")
fi
OPTS=("${LIST[@]}" -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
      -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
apt-get "${OPTS[@]}" -qq update
cd "$APT/src"
if ! apt-get "${OPTS[@]}" -qq source --download-only "cjson=$VERSION" >/dev/null; then
  echo "fetch-cjson: Debian no longer serves cjson $VERSION; update VERSION and the sums in $0" >&2
  exit 1
fi
# dpkg-source checks the .dsc's own checksums of every file it unpacks.
dpkg-source -x cjson_"$VERSION".dsc cjson >/dev/null
cd - >/dev/null
mkdir -p "$OUT"
cp "$APT/src/cjson/cJSON.c" "$APT/src/cjson/cJSON.h" "$APT/src/cjson/LICENSE" "$OUT/"
if ! sums_ok; then
  echo "fetch-cjson: checksum mismatch for cjson $VERSION; refusing to build with it" >&2
  rm -rf "$OUT"
  exit 1
fi
rm -rf "$APT"
echo "fetch-cjson: cjson $VERSION in $OUT"
