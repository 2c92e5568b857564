#!/bin/sh
# run.sh — the benchmarks in one command (docs/benchmarks.md): builds the daemon and the virtual
# card in DIR if needed, installs nginx (the /health yardstick) through packaging/deps.sh --test
# when it is missing, then prints every figure, measured side by side in one run. It asserts no
# time; it exits non-zero only on a real error (a crash, a wrong answer). CTest runs it once in
# quick mode (bench.quick) so it cannot rot.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
usage() {
  echo "usage: tests/bench/run.sh [--quick] [--build DIR] [--only apdus,enrollment,insert,health,memory]"
  echo "  --quick     CI's size: fewer repetitions, 100 WebSocket clients instead of 1,000"
  echo "  --build DIR build tree (default build-test-plain); configured plain if it does not exist"
}
quick= build="$top/build-test-plain" only=
while [ $# -gt 0 ]; do
  case $1 in
    --build|--only) [ $# -ge 2 ] || { usage >&2; exit 2; } ;;
  esac
  case $1 in
    --quick) quick=--quick; shift ;;
    --build) build=$2; shift 2 ;;
    --only) only="--only $2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || "$top/packaging/deps.sh" --test
. "$top/tests/lib/rig.sh"
siths_rig_prepare "$top" "$build"
SITHS_BUILD_DIR=$(cd "$build" && pwd) exec node "$top/tests/bench/bench.mjs" $quick $only
