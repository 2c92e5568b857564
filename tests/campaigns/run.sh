#!/bin/sh
# run.sh — the fault campaigns in one command (README.md beside this file): builds the daemon and
# the virtual card in DIR if needed, then pulls the card at every APDU position of a download and
# of a login and kills pcscd idle, during the card read and at every APDU position of a download,
# checking the card and the daemon after each. Prints the figures; exits non-zero on any
# inconsistency. CTest runs a bounded subset of each campaign (tests/campaigns/CMakeLists.txt).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
usage() {
  echo "usage: tests/campaigns/run.sh [--every K] [--build DIR] [--kind download|login|pcscd|all] [--only N,M] [--verbose]"
  echo "  --every K   try every K-th APDU position (and the last); default 1: every position"
  echo "  --build DIR build tree (default build-test-plain); configured plain if it does not exist"
  echo "  --only N,M  only these positions (to repeat a finding)"
}
every=1 build="$top/build-test-plain" kind=all verbose= only=
while [ $# -gt 0 ]; do
  case $1 in
    --every|--build|--kind|--only) [ $# -ge 2 ] || { usage >&2; exit 2; } ;;
  esac
  case $1 in
    --every) every=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --kind) kind=$2; shift 2 ;;
    --only) only="--only $2"; shift 2 ;;
    --verbose) verbose=--verbose; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
case $every in ''|*[!0-9]*|0) usage >&2; exit 2 ;; esac

. "$top/tests/lib/rig.sh"
siths_rig_prepare "$top" "$build"
SITHS_BUILD_DIR=$(cd "$build" && pwd) exec node "$top/tests/campaigns/campaign.mjs" --kind "$kind" --every "$every" $only $verbose
