#!/bin/sh
# Installs what siths-bridge needs on Debian 12 (idempotent: no apt or download when everything is
# present). `deps.sh` is what the demo needs: build, run, the virtual card, trusting the local CA.
# `deps.sh --test` adds what the tests need; `deps.sh --list [--test]` prints the Debian packages
# and installs nothing. Run as root (or with sudo available).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PKGS="build-essential cmake pkg-config libmicrohttpd-dev libwebsockets-dev libssl-dev openssl
libjansson-dev libpcsclite-dev pcscd vsmartcard-vpcd libnss3-tools curl ca-certificates util-linux
procps"
# opensc: the independent reader of our cards; gdb: a test that finds a process hung takes its
# threads' stacks for the failure message. Node.js and npm come from node.sh, not from Debian.
TEST_PKGS="libcmocka-dev opensc chromium gdb"
test=false
[ "${1:-}" = "--list" ] && { shift; [ "${1:-}" = "--test" ] && PKGS="$PKGS $TEST_PKGS"; echo $PKGS; exit 0; }
[ "${1:-}" = "--test" ] && { test=true; PKGS="$PKGS $TEST_PKGS"; }

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "deps: installing$missing" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
fi

if $test; then
  . "$here/node.sh"
  siths_node_bindir >/dev/null || $SUDO sh -c ". '$here/node.sh' && siths_node_install"
  siths_node_bindir >/dev/null || { echo "deps: no Node.js >= $SITHS_NODE_MIN after installing" >&2; exit 1; }
fi
