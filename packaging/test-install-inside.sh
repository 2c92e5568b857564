#!/bin/bash
# test-install-inside.sh VERSION — the steps of packaging/test-install.sh inside the booted
# Debian 12 machine, as its root (entered with nsenter; nothing of the host is reachable). Two
# desktop users with lingering managers, our packages installed with apt, then each promise of
# docs/install.md checked the way a user meets it. Prints "test-install: PASS|FAIL name" with the
# evidence indented below, and TIME / MEMORY lines; exits 1 when a check failed.
set -uo pipefail
version=$1
here=/root/install-test
drivers=/opt/siths-install-test
node=/opt/siths-bridge-node/bin/node
https=127.0.0.1:29443 wss=127.0.0.1:29444
idle=8     # the users' idle-exit, seconds
failed=0
card_number=""
cd "$here" || exit 1
export DEBIAN_FRONTEND=noninteractive

# check NAME FUNC ARGS...: FUNC's output indented below one PASS or FAIL line. FUNC runs in this
# shell (no subshell), so what it sets is there for the next check.
check() {
  local name=$1 rc=0; shift
  "$@" > "$here/out" 2>&1 || rc=$?
  if [ $rc -eq 0 ]; then echo "test-install: PASS $name"; else echo "test-install: FAIL $name"; failed=1; fi
  sed 's/^/    /' "$here/out"
  return $rc
}

# until_true SECONDS CMD...: CMD every 0.2 s until it succeeds; fails when SECONDS pass first.
until_true() {
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.2; done
}

# as_user USER CMD...: CMD as USER in the environment a login gives (its manager's bus and runtime
# folder), without a PAM session of its own: the user's lingering manager is the session.
as_user() {
  local u=$1 uid; shift
  uid=$(id -u "$u")
  setpriv --reuid="$u" --regid="$u" --init-groups -- /usr/bin/env -i HOME="/home/$u" USER="$u" LOGNAME="$u" \
    SHELL=/bin/bash LANG=C.UTF-8 PATH=/opt/siths-bridge-node/bin:/usr/bin:/bin XDG_RUNTIME_DIR="/run/user/$uid" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$uid/bus" "$@"
}
uctl() { local u=$1; shift; as_user "$u" systemctl --user "$@"; }
service_pid() { uctl "$1" show -p MainPID --value siths-bridge.service; }
curl_user() { local u=$1; shift; as_user "$u" curl -sS --noproxy '*' --max-time 30 "$@"; }
user_ca() { echo "/home/$1/.local/state/siths-bridge/certs/ca.pem"; }
json() { "$node" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(eval(process.argv[1]))})' "$1"; }

# Every path of the machine's own file system with its type (/proc, /sys, /dev, /run, /tmp are
# other file systems: -xdev leaves them out).
snapshot() { find / -xdev -printf '%P\t%y\n' | LC_ALL=C sort > "$1"; }

# PSS of PID in KiB, from smaps_rollup.
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }

# ---- the machine ---------------------------------------------------------------------------------------

boot() {
  local state
  # Entered right after the machine's init started: its manager's socket may not be there yet.
  until_true 60 test -S /run/systemd/private || { echo "no systemd manager socket after 60 s"; return 1; }
  state=$(systemctl is-system-running --wait)
  echo "system: $state; $(systemd-analyze time 2>/dev/null | head -n1)"
  systemctl --failed --no-legend --plain
  [ "$state" = running ]
}

# Two desktop users whose managers run from boot on (linger), as logged-in users' do. Debian's
# pcscd exits after 60 s without a client (--auto-exit), which would take the virtual card's vpcd
# reader with it between two starts of the bridge: a runtime drop-in (in /run, not part of the
# system's files) keeps it for the test. All before the "before" file list.
users() {
  local u exec
  for u in alice bob; do
    useradd -m -s /bin/bash "$u" && loginctl enable-linger "$u" && systemctl start "user@$(id -u "$u").service" || return 1
    echo "$u: uid $(id -u "$u"), manager $(uctl "$u" is-system-running --wait)"
  done
  exec=$(systemctl show -p ExecStart --value pcscd.service | sed -nE 's/.*argv\[\]=([^;]*);.*/\1/p' | sed 's/ --auto-exit//')
  mkdir -p /run/systemd/system/pcscd.service.d
  printf '[Service]\nExecStart=\nExecStart=%s\n' "$exec" > /run/systemd/system/pcscd.service.d/test-no-auto-exit.conf
  systemctl daemon-reload
  echo "pcscd for the test: $exec"
  snapshot "$here/before.list"
}

install_debs() {
  apt-get install -y "./siths-bridge_${version}_amd64.deb" "./siths-bridge-cardsim_${version}_amd64.deb" \
    > "$here/install.log" 2>&1 || { tail -n 30 "$here/install.log"; return 1; }
  grep -E '^(Setting up|Unpacking) siths' "$here/install.log"
  ls /etc/systemd/user/sockets.target.wants/
}

# What a user logging in after the install gets: the managers started again (alice's first, so
# that hers has the default ports), both sockets listening in the manager, no bridge running.
sockets_no_process() {
  local u rc=0 line
  for u in alice bob; do
    echo "$u's running manager after the install: sockets $(uctl "$u" is-active siths-bridge-https.socket siths-bridge-wss.socket | tr '\n' ' ')"
  done
  kmsg_dropin
  for u in alice bob; do
    systemctl restart "user@$(id -u "$u").service" && uctl "$u" is-system-running --wait >/dev/null
  done
  uctl alice is-active siths-bridge-https.socket siths-bridge-wss.socket || rc=1
  for line in $https $wss; do
    ss -Hltnpe "sport = :${line##*:}" | grep -E "\"systemd\",pid=[0-9]+.* uid:$(id -u alice) " |
      sed -E "s/^.*(users:[^ ]*) .*/$line held by alice's manager \1/" | grep . || { echo "$line: not held by alice's manager"; rc=1; }
  done
  if pgrep -a -x siths-bridge; then echo "a bridge process runs before any connection"; rc=1
  else echo "no siths-bridge process; alice's service: $(uctl alice is-active siths-bridge.service)"; fi
  return $rc
}

# CONTAINER ONLY: systemd-nspawn puts a fifo over /proc/kmsg, and a user manager cannot mask that
# one for ProtectKernelLogs=yes ("Failed to mount .../inaccessible/fifo to .../proc/kmsg: No such
# file or directory", status 226/NAMESPACE); on a machine of its own /proc/kmsg is a proc file,
# which it can. A runtime drop-in (in /run, for every user's manager) turns that one option off.
kmsg_dropin() {
  mkdir -p /run/systemd/user/siths-bridge.service.d
  printf '[Service]\nProtectKernelLogs=no\n' > /run/systemd/user/siths-bridge.service.d/nspawn-kmsg.conf
  echo "container only: ProtectKernelLogs=no (/run/systemd/user/siths-bridge.service.d/nspawn-kmsg.conf)"
}

# The virtual card in pcscd's vpcd reader, as a portal developer runs it (siths-bridge-cardsim).
card() {
  systemctl start pcscd.service || return 1
  /usr/share/siths-bridge-cardsim/test-siths-pki.sh /root/pki >/dev/null || return 1
  cardsim_start
}
# The card process (a transient unit: it ends with its reader, when pcscd goes), until pcscd lists
# it in the vpcd reader.
cardsim_start() {
  local port
  port=$(($(sed -nE 's/^CHANNELID[[:space:]]+(0x[0-9A-Fa-f]+).*/\1/p' /etc/reader.conf.d/vpcd)))
  systemctl reset-failed siths-cardsim.service 2>/dev/null
  systemd-run --quiet --unit=siths-cardsim siths-cardsim --port "$port" --pki /root/pki --state /root/card.state || return 1
  until_true 30 sh -c 'opensc-tool --list-readers | grep -E "Yes .*Virtual PCD 00 00"' ||
    { journalctl -u siths-cardsim --no-pager | tail -n 5; opensc-tool --list-readers; return 1; }
  opensc-tool --list-readers | grep 'Virtual PCD'
}

# A short idle exit in each user's own settings file; a Firefox profile made by firefox-esr itself,
# as a user who ran Firefox before has one.
user_setup() {
  local u
  for u in alice bob; do
    as_user "$u" sh -c "mkdir -p ~/.config/siths-bridge && echo 'idle-exit = $idle' > ~/.config/siths-bridge/siths-bridge.conf" || return 1
    as_user "$u" firefox-esr --headless --screenshot "/home/$u/.cache/first-run.png" about:blank >/dev/null 2>&1
    firefox_profile "$u" >/dev/null || { echo "$u: firefox-esr made no profile with a cert9.db"; return 1; }
    echo "$u: idle-exit = $idle in ~/.config/siths-bridge/siths-bridge.conf; Firefox profile $(firefox_profile "$u")"
  done
}
# Firefox before 147 keeps its profiles in ~/.mozilla/firefox, later ones (firefox-esr 153 here) in
# ~/.config/mozilla/firefox (XDG).
firefox_profile() {
  local c
  for c in /home/"$1"/.mozilla/firefox/*/cert9.db /home/"$1"/.config/mozilla/firefox/*/cert9.db; do
    [ -f "$c" ] && { dirname "$c"; return 0; }
  done
  return 1
}

# The first connection starts the bridge: time to the first answer (the certificate does not exist
# before this start, so this probe cannot check it: the next request does), PSS once it is idle.
first_start() { socket_start alice first-start "--insecure"; }

# socket_start USER NAME CURL-TRUST: one request on the user's socket starts the bridge.
socket_start() {
  local u=$1 name=$2 trust=$3 t pid health answer
  [ -z "$(service_pid "$u" | grep -v '^0$')" ] || { echo "$u's bridge already runs"; return 1; }
  # shellcheck disable=SC2086 # one curl option
  answer=$(curl_user "$u" $trust -w '\n%{time_total}' "https://$https/health") || return 1
  t=${answer##*$'\n'}
  printf '%s\n' "${answer%$'\n'*}" > "$here/$name.json"
  pid=$(service_pid "$u")
  [ "$pid" != 0 ] && [ "$(cat "/proc/$pid/comm")" = siths-bridge ] || { echo "no bridge process after the answer"; return 1; }
  echo "test-install: TIME $name: first connection to first answer of $u's socket-started bridge: $(awk -v t="$t" 'BEGIN {printf "%.0f", t * 1000}') ms (curl time_total $t s)"
  echo "test-install: MEMORY $name: $u's bridge pid $pid, PSS idle $(pss "$pid") KiB (smaps_rollup)"
  health=$(json 'j.status+" pcsc "+j.pcsc.reachable+" cards "+j.pcsc.cards' < "$here/$name.json")
  echo "/health: $health"
  [ "$health" = "ok pcsc true cards 1" ]
}

# The user's own CA verifies the bridge's certificate; the card's number for the browsers.
user_tls() {
  local u=$1
  curl_user "$u" --cacert "$(user_ca "$u")" -H 'Sec-Fetch-Site: same-origin' "https://$https/v1/cards" > "$here/cards-$u.json" ||
    { echo "TLS with $u's own CA $(user_ca "$u") failed"; return 1; }
  card_number=$(json 'j.cards.map(c=>c.card_number).join(" ")' < "$here/cards-$u.json")
  echo "TLS verified with $(user_ca "$u"); the bridge reports card $card_number"
  [ -n "$card_number" ] && [[ $card_number != *" "* ]]
}

# The service's start (certs/user-trust.sh as ExecStartPre) trusted the user's own CA in
# ~/.pki/nssdb, the store Chromium on Linux reads; nobody ran anything by hand.
trust() {
  local u=$1
  in_store "$u" "/home/$u/.pki/nssdb" || { echo "/home/$u/.pki/nssdb does not trust $u's CA"; return 1; }
  echo "/home/$u/.pki/nssdb trusts $(user_ca "$u") (the service's own step)"
}
in_store() { as_user "$1" certutil -L -d "sql:$2" -n "$(ca_nick "$1")" >/dev/null 2>&1; }
# The nickname certs/user-trust.sh gives USER's CA in a store: "siths-bridge local CA (user
# USER, SERIAL)", SERIAL as `openssl x509 -serial` prints it.
ca_nick() { local s; s=$(openssl x509 -in "$(user_ca "$1")" -noout -serial); echo "siths-bridge local CA (user $1, ${s#serial=})"; }

# ... and in the Firefox profile firefox-esr made before the bridge ever ran.
trust_firefox() {
  local u=$1 ff
  ff=$(firefox_profile "$u") || return 1
  in_store "$u" "$ff" || { echo "$ff does not trust $u's CA"; return 1; }
  echo "$ff trusts it"
}

# browser USER ENGINE URL: the user's browser shows the card's panel, TLS trusted.
browser() {
  as_user "$1" "$node" "$drivers/test-install-browser.mjs" "$2" "$3" "$card_number" "$(firefox_profile "$1")"
}

# Why each user has a CA of their own: bob starts a listener on alice's HTTPS port (free while
# alice's socket is stopped, as before she logs in) with his own bridge certificate, as a fake
# bridge collecting PINs would. Alice's Chromium refuses it with a certificate error; the page
# never loads. Alice's socket holds the port again afterwards.
fake_bridge_refused() {
  local bob_certs=/home/bob/.local/state/siths-bridge/certs rc=0 fake
  uctl alice stop siths-bridge-https.socket || return 1
  systemd-run --quiet --unit=fake-bridge --uid=bob --gid=bob openssl s_server -quiet -www \
    -accept "$https" -cert "$bob_certs/server.pem" -key "$bob_certs/server.key" || rc=1
  until_true 20 sh -c "ss -Hltn 'sport = :${https##*:}' | grep -q ." || { echo "bob's listener never came up"; rc=1; }
  fake=$(ss -Hltnp "sport = :${https##*:}")
  echo "on $https: $fake"
  [ $rc -ne 0 ] || as_user alice "$node" "$drivers/test-install-browser.mjs" chromium-refused "https://$https/" - || rc=1
  systemctl stop fake-bridge.service
  uctl alice start siths-bridge-https.socket || rc=1
  return $rc
}

# No connection: the bridge exits by itself (cleanly) after idle-exit; the sockets stay with the
# manager.
idle_exit() {
  local t0=$SECONDS pid
  pid=$(service_pid alice)
  until_true $((idle + 30)) sh -c "[ \"\$(setpriv --reuid=alice --regid=alice --init-groups env XDG_RUNTIME_DIR=/run/user/$(id -u alice) systemctl --user show -p ActiveState --value siths-bridge.service)\" = inactive ]" ||
    { echo "pid $pid still runs $((SECONDS - t0)) s later (idle-exit $idle)"; return 1; }
  echo "pid $pid exited by itself $((SECONDS - t0)) s after this check began, the browsers having closed (idle-exit $idle s):" \
    "$(uctl alice show -p Result -p ExecMainStatus siths-bridge.service | tr '\n' ' ')"
  uctl alice show -p Result --value siths-bridge.service | grep -qx success || return 1
  echo "sockets: $(uctl alice is-active siths-bridge-https.socket siths-bridge-wss.socket | tr '\n' ' ')"
  uctl alice is-active siths-bridge-https.socket siths-bridge-wss.socket >/dev/null && ! pgrep -x siths-bridge
}

# The other user's connection to alice's bridge is closed before TLS (docs/security.md).
other_user_refused() {
  if curl_user bob --insecure "https://$https/health" > "$here/bob-on-alice.out" 2>&1; then
    echo "bob got an answer from alice's bridge: $(cat "$here/bob-on-alice.out")"; return 1
  fi
  echo "bob on $https: $(tail -n1 "$here/bob-on-alice.out")"
  curl_user alice --cacert "$(user_ca alice)" "https://$https/health" >/dev/null && echo "alice on $https: answered"
}

# Bob's own listeners (the ports his sockets hold, by the documented rule), his own bridge, and
# both users' browsers at the same time; his Firefox too.
second_user() {
  local bob_https rc=0
  bob_https=$(uctl bob show -p Listen --value siths-bridge-https.socket | awk '{print $1}')
  echo "bob's sockets: $(uctl bob is-active siths-bridge-https.socket siths-bridge-wss.socket | tr '\n' ' ') https $bob_https"
  uctl bob is-active siths-bridge-https.socket siths-bridge-wss.socket >/dev/null && [ "$bob_https" != "$https" ] || return 1
  curl_user bob --insecure -o /dev/null "https://$bob_https/health" && trust bob && trust_firefox bob || return 1
  browser alice chromium "https://$https/" > "$here/both-alice.json" & local a=$!
  browser bob chromium "https://$bob_https/" > "$here/both-bob.json" || rc=1
  wait $a || rc=1
  cat "$here/both-alice.json" "$here/both-bob.json"
  browser bob firefox "https://$bob_https/" || rc=1
  return $rc
}

# The administrator names the portal in /etc/siths-bridge/siths-bridge.conf and regenerates the
# browsers' policies (as the package's postinst does at install); each browser's file then allows
# the portal to reach the bridge under Local Network Access.
portal_policies() {
  local f rc=0
  echo 'allow-origin = https://minasidor.test' >> /etc/siths-bridge/siths-bridge.conf
  siths-bridge policies --write || return 1
  # Firefox's: /etc/firefox/policies, unless only the installation's distribution folder has one.
  local ff=/etc/firefox/policies/policies.json
  [ -f "$ff" ] || ff=/usr/lib/firefox-esr/distribution/policies.json
  for f in /etc/chromium/policies/managed/siths-bridge.json /etc/opt/chrome/policies/managed/siths-bridge.json "$ff"; do
    # Chromium's name the origin, Firefox's LocalNetworkAccess.SkipDomains its host.
    if grep -q '"\(https://\)\?minasidor.test"' "$f" 2>/dev/null; then echo "$f: $(grep -o '"[A-Za-z]*": *\[[^]]*minasidor.test[^]]*]' "$f" | tr '\n' ' ')"
    else echo "$f: missing or without the portal"; rc=1; fi
  done
  return $rc
}

# `siths-bridge doctor` green for alice, and naming each fault made.
doctor() {
  local rc=0 pol=/etc/chromium/policies/managed/siths-bridge.json ff
  as_user alice siths-bridge doctor --lang en || { echo "doctor is not green on a healthy machine"; return 1; }
  doctor_fault 'pcscd' 'systemctl stop pcscd.socket pcscd.service' \
    'systemctl start pcscd.socket pcscd.service && cardsim_start >/dev/null' || rc=1
  ff=$(firefox_profile alice)
  doctor_fault 'firefox' "setpriv --reuid=alice --regid=alice --init-groups certutil -D -d sql:$ff -n '$(ca_nick alice)'" \
    "setpriv --reuid=alice --regid=alice --init-groups certutil -A -d sql:$ff -n '$(ca_nick alice)' -t C,, -i $(user_ca alice)" || rc=1
  doctor_fault 'polic' "mv $pol $here/policy.saved" "mv $here/policy.saved $pol" || rc=1
  doctor_fault "${https##*:}" \
    "setpriv --reuid=alice --regid=alice --init-groups env XDG_RUNTIME_DIR=/run/user/$(id -u alice) systemctl --user stop siths-bridge-https.socket; systemd-run --unit=port-taker $node -e 'require(\"net\").createServer().listen(${https##*:},\"127.0.0.1\")'" \
    "systemctl stop port-taker; setpriv --reuid=alice --regid=alice --init-groups env XDG_RUNTIME_DIR=/run/user/$(id -u alice) systemctl --user start siths-bridge-https.socket" || rc=1
  return $rc
}
doctor_fault() { # doctor_fault WORD MAKE UNDO: doctor fails and says WORD while MAKE's fault lasts
  local word=$1 rc=0
  eval "$2" || return 1
  if as_user alice siths-bridge doctor --lang en > "$here/doctor.out" 2>&1; then echo "doctor green with the fault ($2)"; rc=1; fi
  sed 's/^/  /' "$here/doctor.out"
  grep -qi -- "$word" "$here/doctor.out" || { echo "doctor does not name '$word'"; rc=1; }
  eval "$3" || rc=1
  return $rc
}

# Purge: the system side holds exactly the files it held before the install. What may differ:
# homes (what users made: README.Debian says how to remove it), the test's folder (in /root),
# apt's and dpkg's databases, logs and apt's cache, and the PrivateTmp of systemd's own services
# started meanwhile (timedated, when a browser asks for the time zone).
purge() {
  local diff
  # As a user not using the card leaves it: no bridge running (the package does not stop users'
  # services, as dh_installsystemduser in Debian 12 does not; a running one keeps its PrivateTmp).
  until_true $((idle + 30)) sh -c '! pgrep -x siths-bridge' || { echo "a bridge still runs: $(pgrep -a -x siths-bridge)"; return 1; }
  systemctl stop siths-cardsim.service
  apt-get purge -y siths-bridge siths-bridge-cardsim > "$here/purge.log" 2>&1 || { tail -n 30 "$here/purge.log"; return 1; }
  dpkg -l siths-bridge siths-bridge-cardsim 2>/dev/null | grep -E '^[a-z]{2} ' | grep -v '^un ' && { echo "dpkg still knows a package"; return 1; }
  echo "bridge processes after the purge: $(pgrep -c -x siths-bridge)"
  snapshot "$here/after.list"
  diff=$(diff "$here/before.list" "$here/after.list" | grep -E '^[<>]' |
    grep -vE '^. (home|root|var/lib/dpkg|var/lib/apt|var/cache/apt|var/log)(/|	)' |
    grep -vE '^. var/tmp/systemd-private-[0-9a-f]+-systemd-[a-z]+\.service-' || true)
  [ -z "$diff" ] || { echo "the system after the purge differs from before the install (< gone, > left):"; printf '%s\n' "$diff"; return 1; }
  echo "the system side holds exactly the files it held before the install ($(wc -l < "$here/after.list") paths)"
}

# ---- the run ---------------------------------------------------------------------------------------------

check boot boot
check users users || exit 1
check install install_debs || exit 1
check sockets-no-process-before-first-connection sockets_no_process
check cardsim-in-pcscd card
check user-settings user_setup
check first-connection-starts-bridge first_start
check tls-with-users-own-ca user_tls alice
check trust-in-users-chromium-store trust alice
check trust-in-users-firefox-profiles trust_firefox alice
check chromium-shows-card browser alice chromium "https://$https/"
check firefox-shows-card browser alice firefox "https://$https/"
check idle-exit idle_exit
check next-connection-starts-again socket_start alice restart "--cacert $(user_ca alice)"
check other-user-refused other_user_refused
check two-users-at-once second_user
check fake-bridge-of-another-user-refused fake_bridge_refused
check portal-policies portal_policies
check doctor doctor
check purge-leaves-no-system-file purge
exit $failed
