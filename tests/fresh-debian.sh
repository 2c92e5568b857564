#!/bin/bash
# Proves the README's two commands on a fresh Debian 12: debootstraps a minimal root, copies in a
# clean export of this checkout (into /root, where a new user clones to), and there runs the test
# command twice (the second run must install and rebuild nothing) and the demo command until its
# page is served. Prints how long each step took; exits non-zero if any step failed.
# Needs root. SITHS_FRESH_KEEP=1 keeps the root (its path is printed) for a look afterwards.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

# ---- first half, on the host: the root (tests/lib/debroot.sh) and the checkout in it -------------

DEBROOT_TAG=fresh-debian
. "$top/tests/lib/debroot.sh"

# The checkout as a clone has it, in /root, where a new user clones to.
export_checkout() {
  local dst="$root/root/siths-bridge"
  "$top/packaging/export-tree.sh" "$top" "$dst"
  chmod -R u+rwX,go+rX "$dst"
}

# ---- second half, in a private mount namespace: every mount made here disappears with it, so
# nothing can reach the host's /dev, /proc or /sys -------------------------------------------------

in_root() { debroot_run /root/siths-bridge "$1"; } # in_root CMD: CMD in the checkout, as root

run_tests() { in_root tests/run.sh 2>&1 | tee "$root/fresh-test.log"; }

# The same command again: it must install, fetch and rebuild nothing (it runs the unit tests
# only; the whole suite ran in the step before).
run_tests_again() {
  local redo
  in_root "CTEST_ARGS='-R ^unit[.]' tests/run.sh" 2>&1 | tee "$root/fresh-test-again.log"
  redo=$(grep -E '^deps: installing|^tests: npm ci|Building C object|Linking C' "$root/fresh-test-again.log" || true)
  [ -z "$redo" ] || { printf 'fresh-debian: the second run was not idempotent:\n%s\n' "$redo" >&2; return 1; }
}

# The demo until it prints its URL; the page fetched over TLS against the CA it names; the demo
# stopped by its pid.
run_demo() {
  local fifo="$root/demo.fifo" log="$root/fresh-demo.log" url="" ca="" line pid rc=0
  mkfifo "$fifo"
  in_root "exec packaging/demo.sh" >"$fifo" 2>&1 &
  pid=$!
  exec 4<"$fifo"
  while IFS= read -r -t 1200 line <&4; do
    printf '%s\n' "$line" | tee -a "$log" >&2
    case $line in *"Open:"*) url=${line##* } ;; *"trust-localhost-ca.sh install "*) ca=${line##* } ;; esac
    [ -n "$url" ] && [ -n "$ca" ] && break
  done
  cat <&4 >>"$log" &
  if [ -z "$url" ] || [ -z "$ca" ]; then
    echo "fresh-debian: the demo printed no URL and CA" >&2; rc=1
  elif in_root "curl -fsS --max-time 20 --cacert '$ca' '$url'" > "$root/fresh-page.html" &&
       grep -q 'Mina sidor' "$root/fresh-page.html"; then
    echo "fresh-debian: the demo served $url ($(wc -c < "$root/fresh-page.html") bytes, CA $ca)" >&2
  else
    echo "fresh-debian: $url did not serve the page" >&2; rc=1
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || true
  exec 4<&-
  return $rc
}

# What the demo alone would install on this fresh root (apt-get's simulation, nothing installed),
# beside what the tests need: the figures go into the summary.
count_packages() {
  local demo all
  in_root 'apt-get update -qq' >/dev/null
  demo=$(in_root 'apt-get install -s --no-install-recommends $(packaging/deps.sh --list)' | grep -c '^Inst ')
  all=$(in_root 'apt-get install -s --no-install-recommends $(packaging/deps.sh --list --test)' | grep -c '^Inst ')
  echo "  Debian packages installed on the fresh root: $demo for the demo alone, $all with the tests' (+ Node.js from the npm registry)" \
    > "$root/fresh-packages"
}

inside() {
  local k
  debroot_mount
  debroot_step packages count_packages || true
  debroot_step test run_tests || true
  debroot_step test-again run_tests_again || true
  debroot_step demo run_demo || true
  for k in packages test test-again demo; do echo "$k=${took[$k]}"; done > "$root/fresh-times"
  # The first run's own summary (the whole suite; the second ran the unit tests only).
  { cat "$root/fresh-packages" 2>/dev/null || true
    sed -n '/^== tests: summary ==$/,$p' "$root/fresh-test.log" | sed -e 's/^==.*/  test command, first run:/' -e 's/^  \([a-z]\)/    \1/'
  } > "$root/fresh-summary"
  return $status
}

if [ "${1:-}" = --inside ]; then
  root=$2
  inside
  exit $?
fi

# ---- main ---------------------------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || { echo "fresh-debian: needs root (debootstrap, chroot, mounts)" >&2; exit 1; }
debroot_need_tools
root=$(mktemp -d /var/tmp/siths-fresh.XXXXXX)
chmod 755 "$root"
trap 'debroot_cleanup "${SITHS_FRESH_KEEP:-}"' EXIT
t_all=$SECONDS

if debroot_step debootstrap debroot_make && debroot_step export export_checkout; then
  debroot_proxy_env
  unshare --mount --propagation private "$0" --inside "$root" || status=1
  [ -s "$root/fresh-times" ] && while IFS='=' read -r k v; do took[$k]=$v; done < "$root/fresh-times"
fi

echo "== fresh-debian: times =="
for k in debootstrap export packages test test-again demo; do printf '  %-12s %s\n' "$k" "${took[$k]:-not run}"; done
printf '  %-12s %s s\n' all $((SECONDS - t_all))
[ -s "$root/fresh-summary" ] && cat "$root/fresh-summary"
steps_passed=0 steps_failed=0
for k in debootstrap export packages test test-again demo; do
  case ${took[$k]:-FAILED} in *FAILED*) status=1 steps_failed=$((steps_failed + 1)) ;; *) steps_passed=$((steps_passed + 1)) ;; esac
done
[ $status -eq 0 ] || [ $steps_failed -gt 0 ] || steps_failed=1
# Its steps: the root, the export, the packages, the test command twice, the demo.
echo "fresh: $steps_passed passed, $steps_failed failed"
exit $status
