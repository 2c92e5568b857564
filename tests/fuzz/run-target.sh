#!/bin/sh
# run-target.sh BINARY NAME OUT SECONDS [libFuzzer options…] — one fuzz target for SECONDS from
# all its seed folders that exist: OUT/corpus/NAME (what the runs found, kept between runs),
# OUT/seeds/NAME (fuzz-seeds), tests/fuzz/corpus/NAME and tests/fuzz/regressions/NAME (every
# crash input ever found: copy a new one there). Crash inputs land in OUT/crashes/. Prints
# libFuzzer's final figures; exits non-zero on a crash, leak, sanitizer report or timeout.
# By hand, a long run (after a fuzz build: cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang
# -DSITHS_FUZZ=ON -DSITHS_TESTS=OFF && cmake --build build-fuzz && (cd build-fuzz && ctest -R fuzz.seeds)):
#   SITHS_FUZZ_PKI=build-fuzz/tests/fuzz/pki SITHS_FUZZ_DATA=build-fuzz/tests/fuzz/seeds/data \
#   tests/fuzz/run-target.sh build-fuzz/tests/fuzz/fuzz_der der build-fuzz/tests/fuzz 0 -runs=10000000
set -eu
bin=$1 name=$2 out=$3 secs=$4
shift 4
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/corpus/$name" "$out/crashes"
dirs="$out/corpus/$name"
for d in "$out/seeds/$name" "$src/corpus/$name" "$src/regressions/$name"; do
  [ -d "$d" ] && dirs="$dirs $d"
done
limit=""
[ "$secs" -gt 0 ] && limit="-max_total_time=$secs"
# -timeout: one input may take a while when it makes the virtual card generate an RSA key.
# shellcheck disable=SC2086
exec "$bin" $limit -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$out/crashes/$name-" "$@" $dirs
