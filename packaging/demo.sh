#!/bin/bash
# The one command that sets up and runs the demo: installs dependencies, builds, makes the local
# TLS certificates and the test SITHS hierarchy, starts a private pcscd with a vpcd reader, the
# virtual card (seed profile, realistic timings), the CMP test CA (siths-test-ca) and siths-bridge
# getting its certificates from it over CMP — the path a production CA takes — and prints the URL.
# Ctrl-C stops exactly what it started (by pid). State lives in build-demo/ and survives reruns.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
b="$top/build-demo"
https_port=${SITHS_HTTPS_PORT:-29443}
wss_port=${SITHS_WSS_PORT:-29444}
vpcd_port=${SITHS_VPCD_PORT:-35963}

"$top/packaging/deps.sh"
cmake -S "$top" -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSITHS_TESTS=OFF >/dev/null
cmake --build "$b" -j "$(nproc)" --target siths-bridge siths-cardsim siths-test-ca >/dev/null

mkdir -p "$b/demo/pcscd-run" "$b/demo/reader.conf.d"
[ -f "$b/demo/certs/server.pem" ] || "$top/certs/localhost-ca.sh" "$b/demo/certs"
{ [ -f "$b/demo/pki/.done" ] && [ -f "$b/demo/pki/cmp-server.pem" ]; } || { "$top/certs/test-siths-pki.sh" "$b/demo/pki" && touch "$b/demo/pki/.done"; }
printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x%X\nLIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID    0x%X\n' \
  "$vpcd_port" "$vpcd_port" > "$b/demo/reader.conf.d/vpcd"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# A private pcscd in its own mount namespace, so a system pcscd (if any) is left alone.
sock="$b/demo/pcscd-run/pcscd.comm"
rm -f "$sock"
mkdir -p /run/pcscd
unshare --mount --propagation private sh -c \
  "mount --bind '$b/demo/pcscd-run' /run/pcscd && exec pcscd -f -c '$b/demo/reader.conf.d'" \
  >"$b/demo/pcscd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { echo "demo: pcscd did not start, see $b/demo/pcscd.log" >&2; exit 1; }
export PCSCLITE_CSOCK_NAME="$sock"

"$b/card/sim/siths-cardsim" --port "$vpcd_port" --pki "$b/demo/pki" \
  --state "$b/demo/card-state.bin" --delay realistic 2>"$b/demo/cardsim.log" &
pids+=($!)

# The test CA over CMP, MAC-protected with an order made for this run (the daemon's standing order:
# the demo's page, unlike a portal, has no RA to get one per download from). Port: any free one.
order="$b/demo/cmp-order"
(umask 077; printf 'demo-%s:%s\n' "$$" "$(openssl rand -hex 16)" > "$order")
calog="$b/demo/testca.log"
: > "$calog"
"$b/server/siths-test-ca" --listen 127.0.0.1:0 --pki "$b/demo/pki" --mac "$(cat "$order")" 2>"$calog" &
pids+=($!)
ca_url=""
for _ in $(seq 200); do
  ca_url=$(sed -n 's/^siths-test-ca: listening on \([^ ]*\).*/http:\/\/\1\/pkix\//p' "$calog")
  [ -n "$ca_url" ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || break
  sleep 0.05
done
[ -n "$ca_url" ] || { echo "demo: siths-test-ca did not start, see $calog" >&2; exit 1; }

# The daemon serves only its own user (root here); the desktop user whose browser opens the page
# is let in: the one who ran sudo, plus any in SITHS_DEMO_ALLOW_UID (uids or names, space-separated).
allow=()
for u in ${SUDO_UID:-} ${SITHS_DEMO_ALLOW_UID:-}; do allow+=(--allow-uid "$u"); done
# The URL is printed once the daemon says it is ready (its log comes through a FIFO, then keeps
# going to the terminal); a daemon that exits before that ends the demo with its log shown.
fifo="$b/demo/bridge.out"
rm -f "$fifo"; mkfifo "$fifo"
"$b/server/siths-bridge" --https "127.0.0.1:$https_port" --wss "127.0.0.1:$wss_port" \
  --cert "$b/demo/certs/server.pem" --key "$b/demo/certs/server.key" --www "$top/www" \
  --issuer-cmp "$ca_url" --issuer-cmp-ca "$b/demo/pki/root-ca.pem" --issuer-cmp-mac-file "$order" \
  "${allow[@]}" >"$fifo" 2>&1 &
pids+=($!)
exec 3<"$fifo"
ready=""
while IFS= read -r line <&3; do
  printf '%s\n' "$line" >&2
  case $line in *" ready https="*) ready=1; break ;; esac
done
[ -n "$ready" ] || { echo "demo: siths-bridge did not start" >&2; exit 1; }
cat <&3 >&2 &
pids+=($!)

cat <<MSG

  siths-bridge demo is running.
  Open:  https://127.0.0.1:$https_port/
  Virtual card: the seed's card (PIN1 123456, PIN2 654321, PUK 12345678).
  Issuer: the CMP test CA at $ca_url (log: $calog).
  Your browser must trust the local CA once:  $top/certs/trust-localhost-ca.sh install $b/demo/certs/ca.pem
  Served to browsers of: root${SUDO_UID:+, uid $SUDO_UID}${SITHS_DEMO_ALLOW_UID:+, $SITHS_DEMO_ALLOW_UID} (others: SITHS_DEMO_ALLOW_UID="alice").
  Ctrl-C stops pcscd, the virtual card, the test CA and the daemon.

MSG
wait -n "${pids[@]}" || true
