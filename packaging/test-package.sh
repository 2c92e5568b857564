#!/bin/bash
# Proves the Debian packages the way an admin meets them: builds them (build-deb.sh), runs lintian,
# debootstraps a fresh Debian 12 root (tests/lib/debroot.sh) and there installs both with apt-get,
# checks their files, man pages and configuration file; in a private network namespace it runs the
# virtual card in pcscd through the vpcd reader that comes with them and the daemon as the packaged
# unit starts it, with the packaged test CA (siths-test-ca) as its CMP issuer; asks /health over
# TLS against the CA the packaged localhost-ca.sh made and downloads a signature certificate onto
# the card through the REST API, then again with the daemon's own `test-issuer` (siths-test-ca as
# its child); then purges both and compares the root's file list with the one taken before the install. Prints
# each step's time. Needs root. SITHS_PKG_KEEP=1 keeps the root (its path is printed) afterwards.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
DEBROOT_TAG=test-package
. "$top/tests/lib/debroot.sh"

say() { echo "test-package: $*" >&2; }
fail() { say "$*"; return 1; }

steps_host="build lintian debootstrap"
steps_root="prepare install files run purge"

# ---- on the host ---------------------------------------------------------------------------------

build() { "$top/packaging/build-deb.sh" --no-lintian "$out" >/dev/null; }

lint() { "$top/packaging/build-deb.sh" --lintian-only "$out" >/dev/null; }

# ---- in the root, in a private mount namespace -----------------------------------------------------

in_root() { debroot_run /root "$1"; }
apt_root() { in_root "DEBIAN_FRONTEND=noninteractive apt-get $1"; }

# Every path of the root's own file system, with its type (the mounted /proc, /sys and /dev are other
# file systems: only their mount points are listed).
snapshot() { (cd "$root" && find . -xdev -printf '%P\t%y\n' | LC_ALL=C sort) > "$1"; }

# The test's own tools (curl; ca-certificates for the system store), installed before the first
# snapshot so that they are part of the machine the packages meet; /var/lib/private as systemd's
# tmpfiles make it on a booted system (the purge must leave it).
prepare() {
  apt_root 'update -qq' &&
    apt_root 'install -y -qq --no-install-recommends curl ca-certificates' >/dev/null &&
    mkdir -p -m 0700 "$root/var/lib/private" &&
    snapshot "$root/pkgtest/before.list"
}

install_debs() {
  apt_root "install -y ./debs/siths-bridge_${version}_amd64.deb ./debs/siths-bridge-cardsim_${version}_amd64.deb" \
    > "$root/pkgtest/install.log" 2>&1 || { tail -n 30 "$root/pkgtest/install.log" >&2; return 1; }
  grep -c '^Setting up ' "$root/pkgtest/install.log" |
    xargs printf '  %s packages set up (the two and their dependencies from the Debian 12 sources)\n' >&2
}

# The long options a program's --help lists ("--name" words at the start of a line).
help_options() { in_root "$1 --help" | sed -nE 's/^ +--([a-z-]+).*/\1/p'; }

# Every option of `PROG --help` is in its man page (roff source, where '-' is written '\-').
man_covers_help() {
  local prog=$1 page=$2 o missing=""
  for o in $(help_options "$prog"); do
    zcat "$root/usr/share/man/man1/$page.gz" | grep -qF -- "\\-\\-${o//-/\\-}" || missing="$missing --$o"
  done
  [ -z "$missing" ] || fail "$page lacks$missing"
}

# Every key the daemon takes in a file (its options with a value, but config) is in the conffile,
# commented out; uncommented (with an existing user for allow-uid), the daemon loads every line.
conffile_covers_keys() {
  local conf="$root/etc/siths-bridge/siths-bridge.conf" k missing="" rc=0
  for k in $(in_root 'siths-bridge --help' | sed -nE 's/^ +--([a-z-]+) [A-Z].*/\1/p'); do
    case $k in config|config-if-present) continue ;; esac # which files to read: command line only
    grep -qE "^#$k = " "$conf" || missing="$missing $k"
  done
  [ -z "$missing" ] || { say "siths-bridge.conf lacks the keys$missing"; rc=1; }
  if grep -E '^[^#[:space:]]' "$conf" >&2; then say "siths-bridge.conf sets a key (all must be commented out)"; rc=1; fi
  sed -nE 's/^#([a-z-]+ = .*)/\1/p' "$conf" | sed -E 's/^allow-uid = .*/allow-uid = root/' \
    > "$root/pkgtest/all-keys.conf"
  in_root 'siths-bridge --config /pkgtest/all-keys.conf --help >/dev/null' ||
    { say "the daemon refused siths-bridge.conf with every key uncommented"; rc=1; }
  return $rc
}

# Every file dpkg lists for the two packages is there, and the ones the rest relies on.
installed_files() {
  local p f rc=0
  for p in siths-bridge siths-bridge-cardsim; do
    while IFS= read -r f; do
      [ -e "$root$f" ] || { say "$p: $f is missing"; rc=1; }
    done < <(in_root "dpkg -L $p")
  done
  for f in /usr/bin/siths-bridge /usr/libexec/siths-bridge/localhost-ca.sh /usr/share/siths-bridge/www/index.html \
           /usr/share/siths-bridge/trust-localhost-ca.sh /lib/systemd/system/siths-bridge.service \
           /usr/libexec/siths-bridge/user-trust.sh /usr/lib/systemd/user-generators/siths-bridge-port-generator \
           /usr/share/doc/siths-bridge/README.Debian.gz /usr/bin/siths-cardsim /etc/reader.conf.d/vpcd \
           /usr/share/siths-bridge-cardsim/test-siths-pki.sh /usr/bin/siths-test-ca; do
    [ -e "$root$f" ] || { say "$f is not installed"; rc=1; }
  done
  return $rc
}

# The main package carries no test tool; its configuration is a conffile; its unit is not enabled.
package_rules() {
  local rc=0
  in_root 'dpkg -L siths-bridge' | grep -E 'cardsim|test-siths-pki|test-ca' >&2 && { say "siths-bridge ships a test tool"; rc=1; }
  in_root "dpkg-query -W -f='\${Conffiles}' siths-bridge" | grep -q '/etc/siths-bridge/siths-bridge.conf ' ||
    { say "siths-bridge.conf is not a conffile"; rc=1; }
  if ls "$root"/etc/systemd/system/*.wants/siths-bridge.service >&2 2>/dev/null; then
    say "siths-bridge.service was enabled"; rc=1
  fi
  in_root 'siths-bridge --help >/dev/null && siths-bridge --version' | grep -qx "siths-bridge $version" ||
    { say "siths-bridge --help or --version failed, or the version is not $version"; rc=1; }
  return $rc
}

files() { # every check runs, so that one run names every problem
  local rc=0
  installed_files || rc=1
  package_rules || rc=1
  man_covers_help siths-bridge siths-bridge.1 || rc=1
  man_covers_help siths-cardsim siths-cardsim.1 || rc=1
  man_covers_help siths-test-ca siths-test-ca.1 || rc=1
  in_root 'siths-test-ca --help >/dev/null' || { say "siths-test-ca --help failed"; rc=1; }
  conffile_covers_keys || rc=1
  return $rc
}

purge() {
  local diff
  apt_root 'purge -y --autoremove siths-bridge siths-bridge-cardsim' > "$root/pkgtest/purge.log" 2>&1 ||
    { tail -n 30 "$root/pkgtest/purge.log" >&2; return 1; }
  in_root 'dpkg -l siths-bridge siths-bridge-cardsim 2>/dev/null' | grep -E '^[a-z]{2} ' | grep -v '^un ' &&
    fail "dpkg still knows a package" && return 1
  snapshot "$root/pkgtest/after.list"
  # What may differ: the home of the test's user (root), the test's own folder, temporary and
  # runtime files, apt's and dpkg's own databases, logs and caches.
  diff=$(diff "$root/pkgtest/before.list" "$root/pkgtest/after.list" | grep -E '^[<>]' |
    grep -vE '^. (root|tmp|run|pkgtest|var/lib/dpkg|var/lib/apt|var/cache/apt|var/cache/debconf)(/|	)' |
    grep -vE '^. var/log/(apt/|apt	|dpkg\.log|alternatives\.log)' || true)
  if [ -n "$diff" ]; then
    say "the root after the purge differs from before the install (< gone, > left):"
    printf '%s\n' "$diff" | sed 's/^/  /' >&2
    return 1
  fi
  say "the system side holds exactly the files it held before the install"
}

# ---- the run, in a private network namespace as well (its own loopback: the default ports and the
# reader's are free there whatever else this machine runs) ------------------------------------------

pids=()
stop_all() { # by pid, the last started first; each must exit by itself
  local i rc=0
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" || { say "pid ${pids[i]} exited with $?"; rc=1; }
  done
  pids=()
  return $rc
}

# start_logged NAME CMD PATTERN...: CMD in the root in the background, its output into NAME.log;
# waits (at most 60 s for each line) until a line matched each PATTERN, which is printed, and
# fails when CMD ends first. Afterwards its output keeps going into the log.
start_logged() {
  local name=$1 cmd=$2 fifo="$root/pkgtest/$1.fifo" line p fd; shift 2
  local -a want=("$@")
  rm -f "$fifo"; mkfifo "$fifo"
  debroot_exec /root "exec $cmd" > "$fifo" 2>&1 &
  pids+=($!)
  exec {fd}<"$fifo"
  while [ ${#want[@]} -gt 0 ] && IFS= read -r -t 60 line <&$fd; do
    printf '%s\n' "$line" >> "$root/pkgtest/$name.log"
    for p in "${!want[@]}"; do
      [[ $line =~ ${want[p]} ]] && { say "$name: $line"; unset 'want[p]'; }
    done
  done
  if [ ${#want[@]} -eq 0 ]; then cat <&$fd >> "$root/pkgtest/$name.log" & fi
  exec {fd}<&-
  [ ${#want[@]} -eq 0 ] || fail "$name printed no line like '${want[*]}' (see pkgtest/$name.log)"
}

# The unit's ExecStartPre= or ExecStart= command line as systemd runs it here: the state directory
# as systemd makes it for a DynamicUser= unit, SITHS_BRIDGE_ARGS empty as the unit sets it.
unit_command() {
  local cmd
  cmd=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$root/lib/systemd/system/siths-bridge.service" |
    sed -nE "s/^$1=//p" | sed -e 's|\${STATE_DIRECTORY}|/var/lib/siths-bridge|g' -e 's|\$SITHS_BRIDGE_ARGS||g')
  [ -n "$cmd" ] && [[ $cmd != *[\$%]* ]] || { fail "cannot run $1 of the unit: '$cmd'"; return 1; }
  echo "$cmd"
}

check_health() {
  local https=$1
  in_root "curl -fsS --noproxy '*' --max-time 20 --cacert /var/lib/siths-bridge/certs/ca.pem https://$https/health" \
    > "$root/pkgtest/health.json" || fail "/health over TLS with the packaged CA failed" || return 1
  python3 - "$root/pkgtest/health.json" "$version" <<'EOF' || return 1
import json, sys
h = json.load(open(sys.argv[1]))
print("  /health:", json.dumps(h), file=sys.stderr)
ok = h["status"] == "ok" and h["version"] == sys.argv[2] and h["pcsc"]["reachable"] is True \
    and h["pcsc"]["cards"] == 1
sys.exit(0 if ok else 1)
EOF
  in_root "curl -fsS --noproxy '*' --max-time 20 -H 'Sec-Fetch-Site: same-origin' https://localhost:${https##*:}/v1/readers" \
    > "$root/pkgtest/readers.json" || fail "/v1/readers with the system store's trust failed" || return 1
  python3 - "$root/pkgtest/readers.json" <<'EOF' || fail "the card is not in 'Virtual PCD 00 00' alone"
import json, sys
r = json.load(open(sys.argv[1]))["readers"]
print("  /v1/readers:", ", ".join(f'{x["name"]}{" (card)" if x["card_present"] else ""}' for x in r), file=sys.stderr)
sys.exit(0 if [x["name"] for x in r if x["card_present"]] == ["Virtual PCD 00 00"] else 1)
EOF
}

# The packaged test CA (siths-bridge-cardsim) over CMP as the daemon's issuer, set up as
# docs/issuer.md has an admin do it for a test CA: a standing MAC order in a file of mode 0600
# and the issuer keys in the conffile.
test_issuer() {
  local order="$root/root/cmp-order" url
  (umask 077; printf 'pkgtest-%s:%s\n' "$$" "$(openssl rand -hex 16)" > "$order")
  start_logged testca "siths-test-ca --listen 127.0.0.1:0 --pki /root/pki --mac '$(cat "$order")'" \
    '^siths-test-ca: listening on ' || return 1
  url=$(sed -nE 's|^siths-test-ca: listening on ([^ ]+).*|http://\1/pkix/|p' "$root/pkgtest/testca.log")
  printf 'issuer-cmp = %s\nissuer-cmp-ca = /root/pki/root-ca.pem\nissuer-cmp-mac-file = /root/cmp-order\n' "$url" \
    >> "$root/etc/siths-bridge/siths-bridge.conf"
}

# The root's curl to the daemon on PORT over TLS with the packaged CA, as the daemon's own page
# calls it (its Origin); the rest of the arguments are curl's. The answer's body is on stdout.
api() {
  local port=$1 path=$2; shift 2
  in_root "curl -sS --noproxy '*' --max-time 30 --cacert /var/lib/siths-bridge/certs/ca.pem -H 'Origin: https://127.0.0.1:$port' $* https://127.0.0.1:$port$path"
}
# jq-like: the Python expression EXPR over the JSON j read from stdin.
json() { python3 -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# A signature certificate from the packaged test CA onto the packaged virtual card through the
# packaged daemon's REST API: login with PIN1, the download with PIN2 (each from a file, never on a
# command line, removed after use), the job's state followed to its end, then the card's model
# (Finns, key checked) and the CA's record (in log LOG) that the certificate was confirmed.
download() {
  local port=${1##*:} calog=$2 id session job state='' end=$((SECONDS + 120)) post="-H 'Content-Type: application/json'"
  id=$(api "$port" /v1/cards | json 'j["cards"][0]["id"]') || { fail "no card in /v1/cards"; return 1; }
  echo '{"pin":"123456"}' > "$root/pkgtest/pin1.json"
  session=$(api "$port" "/v1/cards/$id/login" "$post" --data-binary @/pkgtest/pin1.json | json 'j["session"]')
  rm -f "$root/pkgtest/pin1.json"
  [ -n "$session" ] || { fail "login with PIN1 failed"; return 1; }
  echo '{"pin":"654321"}' > "$root/pkgtest/pin2.json"
  job=$(api "$port" "/v1/cards/$id/signature-certificate" "$post" -H "'Authorization: Bearer $session'" \
    --data-binary @/pkgtest/pin2.json | json 'j["job"]')
  rm -f "$root/pkgtest/pin2.json"
  [ -n "$job" ] || { fail "the download did not start"; return 1; }
  while [ "$state" = running ] || [ -z "$state" ]; do
    [ $SECONDS -lt $end ] || { fail "job $job still running after 120 s"; return 1; }
    api "$port" "/v1/jobs/$job" > "$root/pkgtest/job.json"
    state=$(json 'j["state"]' < "$root/pkgtest/job.json") || return 1
    [ "$state" != running ] || sleep 0.2
  done
  say "job $job: $(cat "$root/pkgtest/job.json")"
  [ "$state" = "done" ] || { fail "the download ended $state"; return 1; }
  api "$port" "/v1/cards/$id" | json 'j["signature_certificate"]["present"] and j["signature_certificate"]["key_checked"]' |
    grep -qx True || { fail "the card's model does not show the certificate (Finns, key checked)"; return 1; }
  grep -E 'certificate serial [0-9A-F]+ confirmed' "$root/pkgtest/$calog" >&2 ||
    fail "siths-test-ca recorded no confirmed certificate"
}

# The daemon again, now with `test-issuer = /root/pki` in the conffile in place of the CMP keys
# (a portal developer's one line): it starts the packaged siths-test-ca, the one beside
# /usr/bin/siths-bridge, as its child; the same download through it.
own_test_issuer() {
  local https=$1 exec=$2 bridge=${pids[-1]} conf="$root/etc/siths-bridge/siths-bridge.conf"
  kill -TERM "$bridge"
  wait "$bridge" || { fail "the daemon exited with $? on SIGTERM"; return 1; }
  unset 'pids[-1]'
  sed -i '/^issuer-cmp/d' "$conf"
  echo 'test-issuer = /root/pki' >> "$conf"
  start_logged bridge-test-issuer "$exec" ' ready https=' \
    'test issuer: /usr/bin/siths-test-ca \(pid [0-9]+\) serves CMP at ' ': card .* in "Virtual PCD 00 00"' || return 1
  download "$https" bridge-test-issuer.log
}

run_checks() {
  local port pre exec https
  ip link set lo up
  port=$(sed -nE 's/^CHANNELID[[:space:]]+(0x[0-9A-Fa-f]+).*/\1/p' "$root/etc/reader.conf.d/vpcd")
  port=$((port))
  # pcscd's debug log says when it is ready, after its readers (so vpcd) listen.
  start_logged pcscd 'pcscd --foreground --debug' 'daemon ready' || return 1
  in_root '/usr/share/siths-bridge-cardsim/test-siths-pki.sh /root/pki >/dev/null' || return 1
  start_logged cardsim "siths-cardsim --port $port --pki /root/pki --state /root/card.state" \
    "connected to 127\\.0\\.0\\.1:$port\$" || return 1
  test_issuer || return 1
  # The state directory as systemd makes it for the unit (DynamicUser=, StateDirectory=).
  mkdir -p -m 0700 "$root/var/lib/private/siths-bridge"
  ln -s private/siths-bridge "$root/var/lib/siths-bridge"
  pre=$(unit_command ExecStartPre) && exec=$(unit_command ExecStart) || return 1
  in_root "$pre" >&2 || return 1
  # Ready, and the card read in vpcd's reader.
  start_logged bridge "$exec" ' ready https=' ': card .* in "Virtual PCD 00 00"' || return 1
  https=$(sed -nE 's/.* ready https=([^ ]+) .*/\1/p' "$root/pkgtest/bridge.log")
  # The system-store half of trust-localhost-ca.sh (root's NSS database is the home side).
  in_root '/usr/share/siths-bridge/trust-localhost-ca.sh install /var/lib/siths-bridge/certs/ca.pem' >&2 &&
    check_health "$https" && download "$https" testca.log && own_test_issuer "$https" "$exec"
}

run() {
  local rc=0
  run_checks || rc=1
  stop_all || rc=1
  return $rc
}

inside() {
  local k
  debroot_mount
  debroot_step prepare prepare || true
  [ $status -ne 0 ] || debroot_step install install_debs || true
  [ $status -ne 0 ] || debroot_step files files || true
  [ $status -ne 0 ] || debroot_step run unshare --net "$0" --run "$root" "$version" || true
  # Purge also after a failed check: it must still leave nothing behind.
  if in_root 'dpkg -s siths-bridge' >/dev/null 2>&1; then debroot_step purge purge || true; fi
  for k in $steps_root; do [ -z "${took[$k]:-}" ] || echo "$k=${took[$k]}"; done > "$root/pkgtest/times"
  return $status
}

case "${1:-}" in
  --inside) root=$2 version=$3; inside; exit $? ;;
  --run) root=$2 version=$3; run; exit $? ;;
esac

# ---- main ------------------------------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || { echo "test-package: needs root (packages, debootstrap, chroot, mounts)" >&2; exit 1; }
debroot_need_tools
out="$top/build-deb"
version=$(sed -nE 's/^project\(siths-bridge VERSION ([0-9][0-9.]*)[ )].*/\1/p' "$top/CMakeLists.txt")
root=$(mktemp -d /var/tmp/siths-pkg.XXXXXX)
chmod 755 "$root"
trap 'debroot_cleanup "${SITHS_PKG_KEEP:-}"' EXIT
t_all=$SECONDS

if debroot_step build build && debroot_step lintian lint && debroot_step debootstrap debroot_make; then
  mkdir -p "$root/root/debs" "$root/pkgtest"
  cp "$out/siths-bridge_${version}_amd64.deb" "$out/siths-bridge-cardsim_${version}_amd64.deb" "$root/root/debs/"
  debroot_proxy_env
  unshare --mount --propagation private "$0" --inside "$root" "$version" || status=1
  [ -s "$root/pkgtest/times" ] && while IFS='=' read -r k v; do took[$k]=$v; done < "$root/pkgtest/times"
fi

echo "== test-package: times =="
passed=0 failed=0
for k in $steps_host $steps_root; do
  printf '  %-12s %s\n' "$k" "${took[$k]:-not run}"
  case ${took[$k]:-FAILED} in *FAILED*) failed=$((failed + 1)) ;; *) passed=$((passed + 1)) ;; esac
done
printf '  %-12s %s s\n' all $((SECONDS - t_all))
if [ -f "$out/siths-bridge_${version}_amd64.deb" ]; then
  echo "== test-package: packages =="
  for p in siths-bridge siths-bridge-cardsim; do
    f="$out/${p}_${version}_amd64.deb"
    printf '  %-40s %7s bytes, installed %s KiB\n' "${f##*/}" "$(stat -c %s "$f")" "$(dpkg-deb -f "$f" Installed-Size)"
  done
fi
[ $failed -eq 0 ] || status=1
echo "package: $passed passed, $failed failed"
exit $status
