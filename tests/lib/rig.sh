# rig.sh — sourced by the one-command runners (tests/campaigns/run.sh, tests/bench/run.sh):
# `siths_rig_prepare TOP BUILD` puts Node.js >= the tests' minimum first in PATH, installs
# tests/node_modules if missing, configures BUILD (plain) if it is not configured yet and builds
# the daemon and the virtual card there. Exits on failure.
siths_rig_prepare() {
  . "$1/packaging/node.sh"
  nodebin=$(siths_node_bindir) || { echo "run.sh: no Node.js >= $SITHS_NODE_MIN (packaging/deps.sh --test installs one)" >&2; exit 1; }
  PATH="$nodebin:$PATH"; export PATH
  [ -d "$1/tests/node_modules" ] || (cd "$1/tests" && npm ci --engine-strict --no-audit --no-fund)
  if [ ! -f "$2/CMakeCache.txt" ]; then
    cmake -S "$1" -B "$2" -DSITHS_WERROR=ON -DSITHS_SANITIZE=OFF -DCMAKE_BUILD_TYPE=Debug \
      -DNODE="$nodebin/node" >/dev/null
  fi
  cmake --build "$2" -j2 --target siths-bridge siths-cardsim >/dev/null
}
