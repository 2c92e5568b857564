#!/bin/bash
# Proves the README's two commands on a fresh Debian 12: debootstraps a minimal root, copies in a
# clean export of this checkout (into /root, where a new user clones to), and there runs the test
# command twice (the second run must install and rebuild nothing) and the demo command until its
# page is served. Prints how long each step took; exits non-zero if any step failed.
# Needs root. SITHS_FRESH_KEEP=1 keeps the root (its path is printed) for a look afterwards.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

declare -A took
status=0
step() { # step NAME CMD...: runs CMD, records its time, remembers a failure
  local name=$1 t0=$SECONDS rc=0; shift
  echo "== fresh-debian: $name ==" >&2
  "$@" || rc=$?
  took[$name]="$((SECONDS - t0)) s$([ $rc -eq 0 ] || echo ", FAILED ($rc)")"
  [ $rc -eq 0 ] || status=1
  return $rc
}

# ---- first half, on the host ------------------------------------------------------------------

# The Debian mirrors this machine uses (from its apt sources), else Debian's defaults.
apt_uris() {
  cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}'
  grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'
}

# This machine's npm registry and CA file setting (a TLS-inspecting proxy needs the latter).
npm_settings() {
  registry=https://registry.npmjs.org/; cafile=""
  . "$top/packaging/node.sh"
  local nb
  nb=$(siths_node_bindir 2>/dev/null) || return 0
  registry=$(PATH="$nb:$PATH" npm config get registry)
  cafile=$(PATH="$nb:$PATH" npm config get cafile)
  [ "$cafile" != null ] || cafile=""
}

make_root() {
  local mirror security
  mirror=$(apt_uris | grep -E '/debian/?$' | head -n1 || true)
  security=$(apt_uris | grep -E '/debian-security/?$' | head -n1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}; security=${security:-http://deb.debian.org/debian-security}
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
    { tail -n 30 "$root.log" >&2; rm -f "$root.log"; return 1; }
  rm -f "$root.log"
  # As an installed Debian 12 has them: the release, its updates and its security archive.
  rm -f "$root/etc/apt/sources.list"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: %s\n\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: %s\n' \
    "$mirror" /usr/share/keyrings/debian-archive-keyring.gpg "$security" /usr/share/keyrings/debian-archive-keyring.gpg \
    > "$root/etc/apt/sources.list.d/debian.sources"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  [ -s "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
  # A root without an init: packages must not start their services in it (as in any build chroot).
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  copy_network_settings
}

# This machine's way out to the two registries: apt proxy settings, locally added CA certificates
# (a TLS-inspecting proxy's), npm's registry and CA file. Nothing the project needs is copied.
copy_network_settings() {
  local n=0 f
  grep -hsiE '^\s*Acquire::[a-z]+::Proxy' /etc/apt/apt.conf /etc/apt/apt.conf.d/* \
    > "$root/etc/apt/apt.conf.d/90proxy" || rm -f "$root/etc/apt/apt.conf.d/90proxy"
  mkdir -p "$root/usr/local/share/ca-certificates"
  for f in /usr/local/share/ca-certificates/*.crt /etc/ssl/certs/*.pem; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    n=$((n + 1)); cp "$f" "$root/usr/local/share/ca-certificates/host-$n.crt"
  done
  npm_settings
  # Where this machine's npm trusts a CA file, the fresh root's npm trusts its system bundle,
  # which holds the anchors copied above once ca-certificates is installed.
  { echo "registry=$registry"; [ -z "$cafile" ] || echo "cafile=/etc/ssl/certs/ca-certificates.crt"; } \
    > "$root/etc/npmrc"
}

# The checkout as a clone has it: tracked and new files, nothing that .gitignore keeps out.
export_checkout() {
  local dst="$root/root/siths-bridge"
  mkdir -p "$dst"
  if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$top" ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [ -e "$top/$f" ] && printf '%s\0' "$f"; done |
      tar -C "$top" --null -T - -cf - | tar -C "$dst" -xf -
  else
    tar -C "$top" --exclude='./build*' --exclude=node_modules --exclude=.git -cf - . | tar -C "$dst" -xf -
  fi
  chmod -R u+rwX,go+rX "$dst"
}

cleanup() {
  # Processes still running inside the root are ours (nothing else runs there): stop them by pid.
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null || true
  done
  if [ -n "${SITHS_FRESH_KEEP:-}" ]; then echo "fresh-debian: root kept in $root" >&2
  else rm -rf --one-file-system "$root"; fi
}

# ---- second half, in a private mount namespace: every mount made here disappears with it, so
# nothing can reach the host's /dev, /proc or /sys -------------------------------------------------

in_root() { # in_root CMD: CMD in a root login's environment, in the checkout
  # shellcheck disable=SC2086 # the proxy settings are NAME=value words
  chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/sh TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ${SITHS_FRESH_PROXY_ENV:-} \
    /bin/sh -c "cd /root/siths-bridge && $1"
}

mount_root() {
  mount --bind "$root" "$root"          # unshare (pcscd, the tests) fails in a plain directory
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount --bind /dev "$root/dev"
  mount --bind /dev/pts "$root/dev/pts"
  mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
}

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
  mount_root
  step packages count_packages || true
  step test run_tests || true
  step test-again run_tests_again || true
  step demo run_demo || true
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
command -v debootstrap >/dev/null || {
  echo "fresh-debian: installing debootstrap" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
}
root=$(mktemp -d /var/tmp/siths-fresh.XXXXXX)
chmod 755 "$root"
trap cleanup EXIT
t_all=$SECONDS

if step debootstrap make_root && step export export_checkout; then
  # Proxy settings, and CA bundle settings that point at the system's bundle, pass through.
  SITHS_FRESH_PROXY_ENV=$(env | grep -E '^((https?|no)_proxy|(HTTPS?|NO)_PROXY|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|CURL_CA_BUNDLE)=[^ ]*$' |
    tr '\n' ' ' || true)
  export SITHS_FRESH_PROXY_ENV
  unshare --mount --propagation private "$0" --inside "$root" || status=1
  [ -s "$root/fresh-times" ] && while IFS='=' read -r k v; do took[$k]=$v; done < "$root/fresh-times"
fi

echo "== fresh-debian: times =="
for k in debootstrap export packages test test-again demo; do printf '  %-12s %s\n' "$k" "${took[$k]:-not run}"; done
printf '  %-12s %s s\n' all $((SECONDS - t_all))
[ -s "$root/fresh-summary" ] && cat "$root/fresh-summary"
for k in packages test test-again demo; do case ${took[$k]:-FAILED} in *FAILED*) status=1 ;; esac; done
[ $status -eq 0 ] && echo "fresh-debian: passed" || echo "fresh-debian: FAILED" >&2
exit $status
