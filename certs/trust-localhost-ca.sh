#!/bin/bash
# trust-localhost-ca.sh — makes browsers and the system trust (or stop trusting) the local root CA
# made by localhost-ca.sh. Without --nssdb it uses the system store (update-ca-certificates; as root
# only), the NSS database Chromium uses (~/.pki/nssdb) and every Firefox profile; with --nssdb DIR
# (repeatable) it touches only those databases (tests use a private one). It refuses a CA without
# critical name constraints: only a root that cannot vouch for other sites may be installed this way.
#
#   trust-localhost-ca.sh install CA.pem [--nssdb DIR]...
#   trust-localhost-ca.sh uninstall      [--nssdb DIR]...
set -euo pipefail

NICK="siths-bridge local CA"
SYS_FILE=/usr/local/share/ca-certificates/siths-bridge-local-ca.crt

usage() {
  echo "usage: $0 install CA.pem [--nssdb DIR]... | $0 uninstall [--nssdb DIR]..." >&2
  exit 2
}

[ $# -ge 1 ] || usage
action=$1; shift
ca=""
dbs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --nssdb) [ $# -ge 2 ] || usage; dbs+=("$2"); shift 2 ;;
    --nssdb=*) dbs+=("${1#--nssdb=}"); shift ;;
    -h|--help) echo "usage: $0 install CA.pem [--nssdb DIR]... | $0 uninstall [--nssdb DIR]..."; exit 0 ;;
    -*) usage ;;
    *) [ -z "$ca" ] && [ "$action" = install ] || usage; ca=$1; shift ;;
  esac
done
case "$action" in
  install) [ -n "$ca" ] || usage; [ -r "$ca" ] || { echo "$0: cannot read $ca" >&2; exit 1; } ;;
  uninstall) ;;
  *) usage ;;
esac

explicit=0
if [ ${#dbs[@]} -gt 0 ]; then
  explicit=1
else
  # The invoking user's databases, also under sudo.
  home=$HOME
  if [ -n "${SUDO_USER:-}" ]; then home=$(getent passwd "$SUDO_USER" | cut -d: -f6); fi
  dbs+=("$home/.pki/nssdb")
  for p in "$home"/.mozilla/firefox/*/ "$home"/snap/firefox/common/.mozilla/firefox/*/; do
    [ -f "$p/cert9.db" ] && dbs+=("${p%/}")
  done
fi

need_certutil() {
  command -v certutil >/dev/null || { echo "$0: certutil not found (apt-get install libnss3-tools)" >&2; exit 1; }
}

check_constrained() {
  local text
  text=$(openssl x509 -in "$1" -noout -text 2>/dev/null) || { echo "$0: $1 is not a PEM certificate" >&2; exit 1; }
  if ! grep -q 'X509v3 Name Constraints: critical' <<<"$text" ||
     ! grep -q 'CA:TRUE, pathlen:0' <<<"$text"; then
    echo "$0: refusing $1: not a name-constrained (critical, pathlen:0) local CA" >&2
    exit 1
  fi
}

nss_remove() {
  # Renewals reuse the nickname: remove every copy.
  while certutil -L -d "sql:$1" -n "$NICK" >/dev/null 2>&1; do
    certutil -D -d "sql:$1" -n "$NICK"
  done
}

nss_install() {
  local db=$1
  if [ ! -f "$db/cert9.db" ]; then
    mkdir -p "$db"
    certutil -N -d "sql:$db" --empty-password
  fi
  nss_remove "$db"
  certutil -A -d "sql:$db" -n "$NICK" -t "C,," -i "$ca"
  echo "trust: installed in NSS database $db"
}

system_store() {
  command -v update-ca-certificates >/dev/null || { echo "trust: no update-ca-certificates, system store skipped"; return 0; }
  # A desktop user trusts the CA in their own browsers; only root may change the system store.
  [ "$(id -u)" -eq 0 ] || { echo "trust: not root, system store left as it is"; return 0; }
  if [ "$1" = install ]; then
    install -D -m 0644 "$ca" "$SYS_FILE"
    update-ca-certificates >/dev/null
    echo "trust: installed in the system store ($SYS_FILE)"
  elif [ -e "$SYS_FILE" ]; then
    rm -f "$SYS_FILE"
    update-ca-certificates --fresh >/dev/null
    echo "trust: removed from the system store"
  fi
}

need_certutil
if [ "$action" = install ]; then
  check_constrained "$ca"
  for db in "${dbs[@]}"; do nss_install "$db"; done
  [ $explicit = 1 ] || system_store install
else
  for db in "${dbs[@]}"; do
    if [ -f "$db/cert9.db" ]; then nss_remove "$db"; echo "trust: removed from NSS database $db"; fi
  done
  [ $explicit = 1 ] || system_store uninstall
fi
