#!/usr/bin/env bash
# cJSON comes from Debian's source package, pinned by version and checksums,
# never from a copy in this repository. Output: build/cjson/{cJSON.c,cJSON.h,
# LICENSE,VERSION} (gitignored). Nothing is done when those files are there
# with the right sums.
#
# The fetch uses a PRIVATE apt configuration: a deb-src twin of the system's
# own Debian entries (so no new host is named), with its own lists, cache and
# state under build/apt-cjson/. The system's apt setup is read, never written.
#
# Trust chain: apt checks the .dsc against the signed Sources index, this
# script checks the .dsc against a pinned sha256, dpkg-source checks the
# tarballs against the .dsc, and the unpacked files are checked against
# pinned sums once more.
#
# When Debian drops the pinned revision (the archive serves only the newest
# one; +deb12u5 would replace +deb12u4), this script fails and says so. Then
# either bump VERSION and the four sums below after reviewing the new patches,
# or point SY_CJSON_DEB_SRC at a one-line deb-src entry that still has it, e.g.
#   SY_CJSON_DEB_SRC='deb-src [check-valid-until=no] http://snapshot.debian.org/archive/debian-security/20250901T000000Z bookworm-security main'
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.7.15-1+deb12u4
SHA_DSC=764c2de141d680f4fb4cada30c526dacaa30ead061b9b9c34f2b81e2df0f8439
SHA_C=5c5ab83a24eecfebc25b6aa4d47dbdb5f23d1baec92de75fec5f0528dbe255a7
SHA_H=c25b54ebc98e814eb7b3eeaf12ce899806f87ff5a275b20a3b77dbb3968e5d0b
SHA_LICENSE=a36dda207c36db5818729c54e7ad4e8b0c6fba847491ba64f372c1a2037b6d5c
OUT=${SY_CJSON_DIR:-build/cjson}
APT=$(pwd)/build/apt-cjson

die() { echo "fetch-cjson: $*" >&2; exit 1; }
sums_ok() {
  sha256sum --quiet -c - >/dev/null 2>&1 <<EOF
$SHA_C  $1/cJSON.c
$SHA_H  $1/cJSON.h
$SHA_LICENSE  $1/LICENSE
EOF
}
if sums_ok "$OUT"; then exit 0; fi

command -v apt-get >/dev/null && command -v dpkg-source >/dev/null ||
  die "needs apt-get and dpkg-source (Debian package dpkg-dev): run scripts/install-deps.sh"

rm -rf "$APT"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/sources.d" "$APT/src"
: >"$APT/sources.list"
if [ -n "${SY_CJSON_DEB_SRC:-}" ]; then
  printf '%s\n' "$SY_CJSON_DEB_SRC" >"$APT/sources.list"
  FROM="SY_CJSON_DEB_SRC ($SY_CJSON_DEB_SRC)"
elif [ -f /etc/apt/sources.list.d/debian.sources ]; then
  sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
    >"$APT/sources.d/debian-src.sources"
  FROM="a deb-src twin of /etc/apt/sources.list.d/debian.sources"
elif [ -f /etc/apt/sources.list ]; then
  sed -n -E 's/^deb[[:space:]]/deb-src /p' /etc/apt/sources.list >"$APT/sources.list"
  FROM="a deb-src twin of /etc/apt/sources.list"
else
  die "no Debian apt source found to derive a deb-src entry from; set SY_CJSON_DEB_SRC"
fi

OPTS=(-o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=$APT/sources.d"
  -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
  -o "APT::Sandbox::User=root" -o "Acquire::Retries=3")
[ "$(id -u)" -eq 0 ] || OPTS+=(-o "Debug::NoLocking=1" -o "APT::Sandbox::User=$(id -un)")
LOG=$APT/log

if ! apt-get "${OPTS[@]}" -q update >"$LOG" 2>&1 || grep -q '^[WE]: Failed to fetch' "$LOG"; then
  cat "$LOG" >&2
  die "could not read Debian's source index from $FROM (network or mirror problem)"
fi
if ! (cd "$APT/src" && apt-get "${OPTS[@]}" -q source --download-only "cjson=$VERSION") \
  >>"$LOG" 2>&1; then
  grep -E '^(E|W):' "$LOG" >&2 || cat "$LOG" >&2
  die "Debian does not serve cjson $VERSION from $FROM any more (it keeps only the newest
revision). Review the new revision's patches, then update VERSION and the sums in $0,
or set SY_CJSON_DEB_SRC to a deb-src line that still has $VERSION (see the header of $0)."
fi

DSC=$APT/src/cjson_$VERSION.dsc
[ -f "$DSC" ] || DSC=$APT/src/cjson_${VERSION#*:}.dsc
echo "$SHA_DSC  $DSC" | sha256sum --quiet -c - >/dev/null 2>&1 ||
  die "checksum mismatch for $(basename "$DSC"): got $(sha256sum "$DSC" | cut -d' ' -f1)"
# dpkg-source verifies every tarball against the .dsc (the maintainer's
# signature cannot be checked without debian-keyring; the pinned .dsc sum
# stands in for it).
if ! dpkg-source -x "$DSC" "$APT/src/cjson" >>"$LOG" 2>&1; then
  cat "$LOG" >&2
  die "dpkg-source could not unpack $(basename "$DSC")"
fi
if ! sums_ok "$APT/src/cjson"; then
  (cd "$APT/src/cjson" && sha256sum cJSON.c cJSON.h LICENSE) >&2
  die "checksum mismatch in the unpacked cjson $VERSION; refusing to build with it"
fi

mkdir -p "$OUT"
cp "$APT/src/cjson/cJSON.c" "$APT/src/cjson/cJSON.h" "$APT/src/cjson/LICENSE" "$OUT/"
echo "cjson $VERSION (Debian source package; sha256 of the .dsc $SHA_DSC)" >"$OUT/VERSION"
rm -rf "$APT"
echo "fetch-cjson: cjson $VERSION unpacked into $OUT"
