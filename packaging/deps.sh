#!/bin/sh
# Installs what siths-bridge needs to build, run and test on Debian 12 (idempotent, fast when
# everything is present). Used by both README commands; run as root (or with sudo available).
set -eu
PKGS="build-essential cmake pkg-config libmicrohttpd-dev libwebsockets-dev libssl-dev openssl
libjansson-dev libpcsclite-dev pcscd vsmartcard-vpcd libcmocka-dev opensc libnss3-tools curl
ca-certificates util-linux procps"
# gdb: a test that finds a process hung takes its threads' stacks for the failure message.
[ "${1:-}" = "--test" ] && PKGS="$PKGS chromium gdb"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "deps: installing$missing" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
fi
