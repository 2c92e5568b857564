#!/bin/bash
# Proves the Debian packages on a booted Debian 12 with systemd, desktop users and real browsers:
# builds the packages (build-deb.sh), boots a Debian 12 root with `systemd-nspawn --boot` and runs
# packaging/test-install-inside.sh in it (install with apt, two users with lingering managers,
# socket activation, Chromium and Firefox trusting the user's own CA and showing the virtual card,
# idle exit and restart, purge). Prints "test-install: PASS|FAIL name" lines, the start time and
# PSS of a socket-started bridge, and a summary; exits non-zero on any failure. Needs root.
#
# The root (debootstrap + systemd, browsers, pcscd, vpcd, the packages' dependencies, Node.js and
# the browser drivers) is cached in /var/tmp/siths-install-cache/KEY, KEY a hash of everything
# that goes into it; each run boots it under an overlay whose upper layer is thrown away, so our
# packages always meet a root that never had them. The machine has a private network (its own
# loopback: the default ports are free there whatever this machine runs), so apt in it installs
# our two .debs offline, their dependencies already being in the cached root (resolving them
# from Debian 12 is test-package.sh's proof). The steps enter the machine with nsenter (mount, uts,
# ipc, net, pid and cgroup namespaces) into its init, found as the pid 1 of a pid namespace below
# systemd-nspawn: with --register=no there is no machined, so neither machinectl nor systemd-run
# --machine reach it, and its console would need a terminal driven by expect-like code.
#
# Environment: SITHS_INSTALL_KEEP=1 keeps the run's folder (console log, overlay upper layer); SITHS_INSTALL_HOLD=1
# keeps the machine running after the checks until RUN/release exists (it prints how to enter it).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
DEBROOT_TAG=test-install
. "$top/tests/lib/debroot.sh"

cache_dir=/var/tmp/siths-install-cache
drivers=/opt/siths-install-test # in the root: the browser drivers' node_modules and test-install-browser.mjs

say() { echo "test-install: $*" >&2; }

# What the cached root holds besides debootstrap's minbase: the booted machine, the browsers, the
# smart card stack, the test's own tools (curl, ss, pgrep, opensc-tool to list pcscd's readers).
base_packages="systemd systemd-sysv libpam-systemd dbus-user-session chromium firefox-esr pcscd
  vsmartcard-vpcd opensc curl ca-certificates iproute2 procps libnss3-tools"
# The browser drivers: playwright-core at tests/package-lock.json's version; puppeteer-core at
# that file's version once tests/package.json has it, else this pin (the firefox branch's).
puppeteer_pin=25.16.0

# The dependencies our packages declare (names only: every one is in Debian 12).
deb_dependencies() {
  local f
  for f in "$@"; do dpkg-deb -f "$f" Depends; done | tr ',' '\n' | sed -E 's/^ *([^ (|]+).*/\1/' |
    grep -vE '^(siths-bridge.*)?$' | LC_ALL=C sort -u | tr '\n' ' '
}

locked_version() { # locked_version NPM-PACKAGE: its version in tests/package-lock.json, or nothing
  sed -n "/\"node_modules\/$1\": {/,/}/s/.*\"version\": \"\([^\"]*\)\".*/\1/p" "$top/tests/package-lock.json" | head -n1
}

# ---- the cached root -------------------------------------------------------------------------------

cache_key() {
  { echo "$packages"; echo "$modules"; cat "$SITHS_NODE_DIR/.stamp"
    cat "$top/tests/lib/debroot.sh"; declare -f make_cache cache_inside; } | sha256sum | cut -c1-16
}

# In a private mount namespace: the packages installed as in any build chroot (no init, nothing
# started), then what only a booted machine may do made possible again.
cache_inside() {
  debroot_mount
  # shellcheck disable=SC2086 # a list of package names
  debroot_run / "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages && apt-get clean" \
    > "$root.apt.log" 2>&1 || { tail -n 30 "$root.apt.log" >&2; return 1; }
  rm -f "$root.apt.log" "$root/usr/sbin/policy-rc.d"
  # One machine id for the cached machine (an empty one would make every boot a first boot).
  systemd-machine-id-setup --root="$root" >/dev/null
}

make_cache() {
  local final=$1 p
  root="$final.new"
  rm -rf --one-file-system "$root"; mkdir -p "$root"; chmod 755 "$root"
  say "making the cached root $final (debootstrap, then: $packages)"
  debroot_make || return 1
  debroot_proxy_env
  unshare --mount --propagation private "$0" --cache "$root" "$packages" || return 1
  # Node.js and the browser drivers, as the tests run them on this machine.
  mkdir -p "$root/opt"
  cp -a "$SITHS_NODE_DIR" "$root/opt/siths-bridge-node"
  mkdir -p "$root$drivers"
  echo '{"name":"siths-install-test","private":true,"type":"module"}' > "$root$drivers/package.json"
  # shellcheck disable=SC2086 # name@version words
  (cd "$root$drivers" && PATH="$SITHS_NODE_DIR/bin:$PATH" npm install --no-audit --no-fund --silent $modules) >&2 ||
    return 1
  chmod -R a+rX "$root/opt"
  # Older cached roots (other keys) go: each is over a gigabyte.
  for p in "$cache_dir"/*; do [ "$p" = "$root" ] || rm -rf --one-file-system "$p"; done
  mv "$root" "$final"
}

# ---- the booted machine, in a private mount namespace ------------------------------------------------

# The container's init: the process that is pid 1 in its own pid namespace and descends from
# systemd-nspawn ($1).
container_init() {
  local p ppid q
  for p in /proc/[0-9]*; do
    grep -qE '^NSpid:.*[[:space:]]1$' "$p/status" 2>/dev/null || continue
    q=${p#/proc/}
    while [ "$q" -gt 1 ]; do
      ppid=$(awk '/^PPid:/ {print $2}' "/proc/$q/status" 2>/dev/null) || break
      [ "$ppid" = "$1" ] && { echo "${p#/proc/}"; return 0; }
      q=${ppid:-0}
    done
  done
  return 1
}

# in_machine CMD...: CMD as root in every namespace of the booted machine, with a clean environment.
in_machine() {
  nsenter -t "$init" -m -u -i -n -p -C -- /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 TERM=dumb "$@"
}

poweroff_machine() { # by its pid: systemd-nspawn turns TERM into an orderly poweroff of the machine
  local i
  kill -TERM "$nspawn" 2>/dev/null || return 0
  for ((i = 0; i < 90; i++)); do kill -0 "$nspawn" 2>/dev/null || break; sleep 1; done
  if kill -0 "$nspawn" 2>/dev/null; then
    say "the machine did not power off within 90 s: killed"
    kill -KILL "$nspawn"; wait "$nspawn" 2>/dev/null || true; return 1
  fi
  wait "$nspawn" 2>/dev/null || true
  say "the machine powered off"
}

boot_inside() {
  local run=$1 lower=$2 version=$3 rc=0 i
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$run/upper,workdir=$run/work" "$run/root"
  mkdir -p "$run/root/root/install-test"
  cp "$out/siths-bridge_${version}_amd64.deb" "$out/siths-bridge-cardsim_${version}_amd64.deb" \
    "$top/packaging/test-install-inside.sh" "$run/root/root/install-test/"
  install -m 0644 "$top/packaging/test-install-browser.mjs" "$run/root$drivers/"
  systemd-nspawn --boot --register=no --keep-unit --private-network --console=read-only \
    -D "$run/root" --machine="siths-install-$$" > "$run/console.log" 2>&1 &
  nspawn=$!
  for ((i = 0; i < 300; i++)); do
    init=$(container_init "$nspawn") && break
    kill -0 "$nspawn" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "${init:-}" ]; then
    say "systemd-nspawn started no init (console: $run/console.log)"; tail -n 20 "$run/console.log" >&2
    poweroff_machine || true; return 1
  fi
  say "booting: systemd-nspawn pid $nspawn, the machine's init is pid $init on this side"
  in_machine /bin/bash /root/install-test/test-install-inside.sh "$version" || rc=1
  if [ -n "${SITHS_INSTALL_HOLD:-}" ]; then
    say "holding the machine for a look: nsenter -t $init -m -u -i -n -p -C; touch $run/release ends it"
    until [ -e "$run/release" ]; do sleep 1; done
  fi
  poweroff_machine || rc=1
  umount "$run/root"
  return $rc
}

case "${1:-}" in
  --cache) root=$2 packages=$3; cache_inside; exit $? ;;
  --boot) out=$5; boot_inside "$2" "$3" "$4"; exit $? ;;
esac

# ---- main ---------------------------------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || { echo "test-install: needs root (packages, debootstrap, mounts, nspawn)" >&2; exit 1; }
debroot_need_tools
command -v systemd-nspawn >/dev/null ||
  { say "installing systemd-container"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd-container >&2; }
. "$top/packaging/node.sh"
[ -x "$SITHS_NODE_DIR/bin/node" ] || "$top/packaging/deps.sh" --test
out="$top/build-deb"
version=$(sed -nE 's/^project\(siths-bridge VERSION ([0-9][0-9.]*)[ )].*/\1/p' "$top/CMakeLists.txt")
t_all=$SECONDS
log=$(mktemp /tmp/siths-install-log.XXXXXX)
run=""
cleanup() {
  [ -z "$run" ] || if [ -n "${SITHS_INSTALL_KEEP:-}" ]; then say "run kept in $run"; else rm -rf --one-file-system "$run"; fi
  rm -f "$log"
}
trap cleanup EXIT

result() { echo "test-install: $1 $2${3:+ ($3)}" | tee -a "$log"; }

t0=$SECONDS
if "$top/packaging/build-deb.sh" --no-lintian "$out" > "$log.build" 2>&1; then result PASS build "$((SECONDS - t0)) s"
else tail -n 20 "$log.build" >&2; result FAIL build; fi
rm -f "$log.build"

if [ -f "$out/siths-bridge_${version}_amd64.deb" ]; then
  packages="$(echo $base_packages) $(deb_dependencies "$out/siths-bridge_${version}_amd64.deb" "$out/siths-bridge-cardsim_${version}_amd64.deb")"
  pup=$(locked_version puppeteer-core)
  [ -n "$pup" ] || say "tests/package.json has no puppeteer-core yet: puppeteer-core@$puppeteer_pin in the root"
  modules="playwright-core@$(locked_version playwright-core) puppeteer-core@${pup:-$puppeteer_pin}"
  key=$(cache_key)
  if [ -d "$cache_dir/$key" ]; then result PASS root "cached $cache_dir/$key"
  elif mkdir -p "$cache_dir" && make_cache "$cache_dir/$key"; then result PASS root "made $cache_dir/$key in $((SECONDS - t0)) s"
  else result FAIL root; rm -rf --one-file-system "$cache_dir/$key.new"; fi
  if [ -d "$cache_dir/$key" ]; then
    run=$(mktemp -d /var/tmp/siths-install-run.XXXXXX)
    mkdir -p "$run/upper" "$run/work" "$run/root"
    unshare --mount --propagation private "$0" --boot "$run" "$cache_dir/$key" "$version" "$out" 2>&1 | tee -a "$log" ||
      grep -q '^test-install: FAIL ' "$log" || result FAIL machine "the booted machine's run ended with an error"
    grep -q 'the machine powered off' "$log" && result PASS poweroff || result FAIL poweroff
  fi
fi

passed=$(grep -c '^test-install: PASS ' "$log" || true)
failed=$(grep -c '^test-install: FAIL ' "$log" || true)
echo "== test-install: summary =="
grep -E '^ *test-install: (FAIL|TIME|MEMORY) ' "$log" | sed 's/^ *test-install: /  /' || true
printf '  all checks took %d s\n' $((SECONDS - t_all))
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
