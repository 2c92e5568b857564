#!/bin/sh
# The one command that sets up and runs every test: installs dependencies, builds twice (plain with
# -Werror, then ASan+UBSan) and runs the whole CTest suite in both builds, then builds the libFuzzer
# targets with clang (ASan+UBSan) and runs each for a bounded time (tests/fuzz). Every mode always
# runs; the summary names each, and the script fails if any failed. A test that fails runs once more
# and the summary names it (flaky) even when its second run passes.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/packaging/deps.sh" --test
. "$top/packaging/node.sh"
nodebin=$(siths_node_bindir)
PATH="$nodebin:$PATH"; export PATH
echo "tests: node $(node --version), npm $(npm --version) from $nodebin"

# npm ci only when the lockfile changed since the last install (its hash is kept beside the modules).
lock=$(sha256sum "$top/tests/package-lock.json" | cut -d' ' -f1)
stamp="$top/tests/node_modules/.siths-lock-sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock" ]; then
  echo "tests: npm ci"
  (cd "$top/tests" && npm ci --engine-strict --no-audit --no-fund)
  echo "$lock" > "$stamp"
fi

jobs=$(nproc)
summary=""
failed=0
n_passed=0 n_failed=0
for mode in plain sanitize fuzz; do
  b="$top/build-test-$mode"
  case $mode in
    plain) opts="-DSITHS_SANITIZE=OFF -DSITHS_TESTS=ON -DNODE=$nodebin/node" repeat="--repeat until-pass:2" ;;
    sanitize) opts="-DSITHS_SANITIZE=ON -DSITHS_TESTS=ON -DNODE=$nodebin/node" repeat="--repeat until-pass:2" ;;
    # A fuzz run is random: a crash it found must fail the run, never be run again until it passes.
    fuzz) opts="-DCMAKE_C_COMPILER=clang -DSITHS_FUZZ=ON -DSITHS_TESTS=OFF" repeat="" ;;
  esac
  echo "== tests: $mode build =="
  # shellcheck disable=SC2086
  if cmake -S "$top" -B "$b" -DSITHS_WERROR=ON -DCMAKE_BUILD_TYPE=Debug $opts >/dev/null &&
     cmake --build "$b" -j "$jobs"; then
    log="$b/ctest-summary.log"
    # dash has no pipefail: ctest's own status goes through a file past tee. A test that failed
    # runs once more (plain and sanitize) and is named in the summary as flaky either way:
    # the browser tests under a loaded machine now and then lose a race of their own; a real
    # failure fails twice.
    { rc=0; (cd "$b" && ctest --output-on-failure --timeout 300 $repeat ${CTEST_ARGS:-}) || rc=$?; echo $rc > "$b/ctest.rc"; } | tee "$log"
    flaky=$(grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: [^ ]+ .*\*\*\*(Failed|Timeout|Exception)' "$log" |
      sed -E 's/.*Test +#[0-9]+: ([^ ]+) .*/\1/' | sort -u | tr '\n' ' ')
    # ctest's closing line: "N% tests passed, F tests failed out of T".
    counts=$(sed -nE 's/.*tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1 \2/p' "$log" | tail -n1)
    if [ -n "$counts" ]; then
      n_failed=$((n_failed + ${counts% *})); n_passed=$((n_passed + ${counts#* } - ${counts% *}))
    elif [ "$(cat "$b/ctest.rc")" != 0 ]; then
      n_failed=$((n_failed + 1))
    fi
    if [ "$(cat "$b/ctest.rc")" = 0 ]; then
      line=$(grep -E 'tests passed' "$log" | tail -n1)
      [ -z "$flaky" ] || line="$line; failed once, passed on the second run: $flaky"
    else
      failed=1; line="FAILED: $(grep -E 'tests passed|tests failed' "$log" | tail -n1)"
      line="$line $(sed -n '/The following tests FAILED/,$p' "$log" | grep -oE '[0-9]+ - [^ ]+' | tr '\n' ' ')"
    fi
  else
    failed=1; line="FAILED: the build did not complete"; n_failed=$((n_failed + 1))
  fi
  summary="$summary
  $mode: $line"
done
# The sum over all three builds (a build that did not complete counts as one failure), then each
# build's own CTest closing line: those lines are the last the command prints.
[ $failed -eq 0 ] || [ $n_failed -gt 0 ] || n_failed=1
echo "tests: $n_passed passed, $n_failed failed"
echo "== tests: summary ==$summary"
exit $failed
