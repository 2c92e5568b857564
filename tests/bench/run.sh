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
. "$top/packaging/node.sh"
nodebin=$(siths_node_bindir) || { echo "run.sh: no Node.js >= $SITHS_NODE_MIN (packaging/deps.sh --test installs one)" >&2; exit 1; }
PATH="$nodebin:$PATH"; export PATH
[ -d "$top/tests/node_modules" ] || (cd "$top/tests" && npm ci --engine-strict --no-audit --no-fund)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$top" -B "$build" -DSITHS_WERROR=ON -DSITHS_SANITIZE=OFF -DCMAKE_BUILD_TYPE=Debug \
    -DNODE="$nodebin/node" >/dev/null
fi
cmake --build "$build" -j2 --target siths-bridge siths-cardsim >/dev/null
SITHS_BUILD_DIR=$(cd "$build" && pwd) exec node "$top/tests/bench/bench.mjs" $quick $only
