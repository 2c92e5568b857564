#!/bin/bash
# build-deb.sh [--no-lintian|--lintian-only] [OUTDIR] — builds the Debian packages siths-bridge and
# siths-bridge-cardsim (binary only, with their -dbgsym packages) from a clean export of this
# checkout, with packaging/debian/ as its debian/, configured without the tests; then lintian must
# find no error and no warning (--lintian-only: only that, on what OUTDIR holds). Installs its own
# build dependencies (deps.sh --package). The .debs, the .changes and lintian.txt land in OUTDIR
# (default build-deb/ of the checkout), which it prints. Idempotent: every run builds anew from a
# fresh export into the same OUTDIR.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=true lint=true
case "${1:-}" in
  --no-lintian) lint=false; shift ;;
  --lintian-only) build=false; shift ;;
esac
out=$(realpath -m "${1:-$top/build-deb}")

"$top/packaging/deps.sh" --package

# The version has one source, CMake's project(); the changelog's top entry must name it.
version=$(sed -nE 's/^project\(siths-bridge VERSION ([0-9][0-9.]*)[ )].*/\1/p' "$top/CMakeLists.txt")
logged=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
if [ -z "$version" ] || [ "$version" != "$logged" ]; then
  echo "build-deb: CMakeLists.txt says version '${version:-?}', packaging/debian/changelog '$logged':" \
    "add a changelog entry for $version (dch -c packaging/debian/changelog -v $version)" >&2
  exit 1
fi

build() {
  # A fresh tree each time: nothing of an earlier build (or of the checkout's own builds) leaks in.
  local tree="$out/tree/siths-bridge-$version"
  rm -rf "$out/tree"
  mkdir -p "$tree"
  "$top/packaging/export-tree.sh" "$top" "$tree"
  [ ! -e "$tree/debian" ] || { echo "build-deb: the checkout has a top-level debian/" >&2; exit 1; }
  cp -r "$top/packaging/debian" "$tree/debian"

  echo "build-deb: building siths-bridge $version in $tree" >&2
  (cd "$tree" && dpkg-buildpackage -b -us -uc -J2) > "$out/build.log" 2>&1 ||
    { tail -n 40 "$out/build.log" >&2; echo "build-deb: the build failed, see $out/build.log" >&2; exit 1; }

  rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
  mv "$out/tree/$changes" "$out/tree/"*.buildinfo "$out/tree/"*.deb "$out/"
  rm -rf "$out/tree"
}

# lintian warns when it runs as root: as nobody, where nobody can read the packages.
lint() {
  local as=() rc=0
  if [ "$(id -u)" -eq 0 ] && setpriv --reuid=nobody --regid=nogroup --clear-groups test -r "$out/$changes" 2>/dev/null; then
    as=(setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/tmp TMPDIR=/tmp)
  fi
  echo "build-deb: lintian --fail-on error,warning" >&2
  "${as[@]}" lintian --fail-on error,warning --display-info "$out/$changes" > "$out/lintian.txt" 2>&1 || rc=$?
  sed 's/^/  /' "$out/lintian.txt" >&2
  [ $rc -eq 0 ] || { echo "build-deb: lintian failed ($rc)" >&2; return 1; }
  echo "build-deb: lintian clean" >&2
}

changes="siths-bridge_${version}_amd64.changes"
if $build; then build; fi
if $lint; then lint; fi
ls -l "$out"/*.deb >&2
echo "$out"
