#!/bin/sh
# Installs what siths-bridge needs on Debian 12 (idempotent: no apt or download when everything is
# present). `deps.sh` is what the demo needs: build, run, the virtual card, trusting the local CA.
# `deps.sh --test` adds what the tests need; `deps.sh --package` is what packaging/build-deb.sh
# needs (the Build-Depends of packaging/debian/control, debhelper's tools and lintian);
# `deps.sh --list [--test|--package]` prints the Debian packages and installs nothing. Run as root
# (or with sudo available).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PKGS="build-essential cmake pkg-config libmicrohttpd-dev libwebsockets-dev libssl-dev openssl
libsystemd-dev libjansson-dev libpcsclite-dev pcscd vsmartcard-vpcd libnss3-tools curl ca-certificates util-linux
procps"
# opensc: the independent reader of our cards; gdb: a test that finds a process hung takes its
# threads' stacks for the failure message; chromium and firefox-esr: the browsers the page tests
# drive; systemd: systemd-socket-activate, the independent launcher the socket-activation test
# starts the daemon with; iproute2: `ip`, for the port rule's test in a private network namespace;
# nginx: the yardstick the /health benchmark (tests/bench) runs beside the daemon, as its own
# process on a private port (the Debian service is not used). Node.js and npm come from node.sh.
TEST_PKGS="libcmocka-dev opensc chromium firefox-esr gdb systemd iproute2 nginx"
# The package build's: Build-Depends from debian/control (one list, not two), version constraints
# dropped, debhelper-compat (a name only debhelper provides) as debhelper.
package_pkgs() {
  awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, ""); print; next }
       on && /^[ \t]/ { print; next } { on = 0 }' "$here/debian/control" |
    tr ',' '\n' | sed -e 's/[([].*//' -e 's/[[:space:]]//g' -e 's/^debhelper-compat$/debhelper/' |
    grep -v '^$'
  echo build-essential dpkg-dev fakeroot lintian
}
# The fuzz build (tests/fuzz, libFuzzer): Debian's clang and its runtime libraries.
FUZZ_PKGS="clang libclang-rt-dev"

list=false test=false
[ "${1:-}" = "--list" ] && { list=true; shift; }
case "${1:-}" in
  --test) test=true; PKGS="$PKGS $TEST_PKGS $FUZZ_PKGS" ;;
  --package) PKGS=$(package_pkgs | tr '\n' ' ') ;;
  "") ;;
  *) echo "usage: $0 [--list] [--test|--package]" >&2; exit 2 ;;
esac
if $list; then echo $PKGS; exit 0; fi

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
