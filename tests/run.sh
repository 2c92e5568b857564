#!/bin/sh
# The one command that sets up and runs every test: installs dependencies, builds twice (plain with
# -Werror, then ASan+UBSan) and runs the whole CTest suite in both builds.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/packaging/deps.sh" --test
(cd "$top/tests" && { [ -d node_modules/ws ] && [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error; })

jobs=$(nproc)
for mode in plain sanitize; do
  b="$top/build-test-$mode"
  san=OFF; [ $mode = sanitize ] && san=ON
  cmake -S "$top" -B "$b" -DSITHS_WERROR=ON -DSITHS_SANITIZE=$san -DCMAKE_BUILD_TYPE=Debug >/dev/null
  cmake --build "$b" -j "$jobs"
  echo "== tests: $mode build =="
  (cd "$b" && ctest --output-on-failure --timeout 300 ${CTEST_ARGS:-})
done
