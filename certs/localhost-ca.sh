#!/bin/bash
# localhost-ca.sh DIR [--renew] — makes the daemon's TLS certificates for this installation:
# a local root CA with critical name constraints (only localhost, 127.0.0.1/32, ::1/128; pathlen:0)
# and a server certificate for those names under it. The CA private key lives only in a private
# temporary directory and is destroyed before the script returns, so the root can never sign again:
# renewal makes a new CA. Output: DIR/ca.pem, DIR/server.pem, DIR/server.key (0600).
# Rerunning keeps a valid pair (unless --renew or the CA or the certificate expires within 30 days).
set -euo pipefail

usage() { echo "usage: $0 DIR [--renew]" >&2; exit 2; }
dir="" renew=0
for a in "$@"; do
  case "$a" in
    --renew) renew=1 ;;
    -h|--help) echo "usage: $0 DIR [--renew]"; exit 0 ;;
    -*) usage ;;
    *) [ -z "$dir" ] || usage; dir=$a ;;
  esac
done
[ -n "$dir" ] || usage
command -v openssl >/dev/null || { echo "$0: openssl not found" >&2; exit 1; }

days=825  # the longest server-certificate lifetime browsers accept
ca="$dir/ca.pem" crt="$dir/server.pem" key="$dir/server.key"

still_good() {
  [ -s "$ca" ] && [ -s "$crt" ] && [ -s "$key" ] || return 1
  openssl verify -CAfile "$ca" "$crt" >/dev/null 2>&1 || return 1
  openssl x509 -in "$crt" -noout -checkend $((30 * 86400)) >/dev/null 2>&1 || return 1
  openssl x509 -in "$ca" -noout -checkend $((30 * 86400)) >/dev/null 2>&1 || return 1
  # The key must belong to the certificate.
  [ "$(openssl x509 -in "$crt" -noout -pubkey)" = "$(openssl pkey -in "$key" -pubout 2>/dev/null)" ]
}

if [ "$renew" = 0 ] && still_good; then
  echo "localhost-ca: $dir already holds a valid certificate (use --renew for a new CA)"
  exit 0
fi

mkdir -p "$dir"
umask 077
work=$(mktemp -d "${TMPDIR:-/tmp}/siths-ca.XXXXXX")
destroy() {
  # The CA key must not outlive this script, whatever happens.
  if [ -f "$work/ca.key" ]; then shred -u "$work/ca.key" 2>/dev/null || rm -f "$work/ca.key"; fi
  rm -rf "$work"
}
trap destroy EXIT

cat > "$work/ca.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = siths-bridge local CA $(hostname 2>/dev/null || echo host) $(date -u +%Y%m%dT%H%M%SZ)
O = siths-bridge (this computer only)
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
nameConstraints = critical, permitted;DNS:localhost, permitted;IP:127.0.0.1/255.255.255.255, permitted;IP:::1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF
[v3_srv]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/ca.key" 2>/dev/null
openssl req -new -x509 -config "$work/ca.cnf" -extensions v3_ca -key "$work/ca.key" \
  -days "$days" -sha256 -out "$work/ca.pem"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/server.key" 2>/dev/null
openssl req -new -key "$work/server.key" -subj "/CN=localhost" -out "$work/server.csr"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
  -set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
  -extfile "$work/ca.cnf" -extensions v3_srv -out "$work/server.pem" 2>/dev/null
openssl verify -CAfile "$work/ca.pem" "$work/server.pem" >/dev/null

# The key has done its only job: destroy it before anything else is written.
shred -u "$work/ca.key" 2>/dev/null || rm -f "$work/ca.key"
[ ! -e "$work/ca.key" ]
# Replace the set only now that a complete new one exists.
install -m 0600 "$work/server.key" "$key"
install -m 0644 "$work/server.pem" "$crt"
install -m 0644 "$work/ca.pem" "$ca"
echo "localhost-ca: new local CA and server certificate in $dir (CA key destroyed)"
