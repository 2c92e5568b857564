# debroot.sh — a fresh Debian 12 root made with debootstrap, for the tests that start from a new
# machine (tests/fresh-debian.sh, packaging/test-package.sh). Sourced, not executed. The caller
# sets `top` (the checkout) and `root` (an empty folder for the root); the functions work on them.
# debroot_mount must run in a private mount namespace (unshare --mount --propagation private), so
# that every mount disappears with it and nothing can reach the host's /dev, /proc or /sys.

# debroot_step NAME CMD...: runs CMD, records its time in took[NAME] (", FAILED (rc)" appended when it
# failed) and sets status=1 on a failure; returns CMD's exit code. DEBROOT_TAG names the caller.
declare -gA took
status=0
debroot_step() {
  local name=$1 t0=$SECONDS rc=0; shift
  echo "== ${DEBROOT_TAG:-debroot}: $name ==" >&2
  "$@" || rc=$?
  took[$name]="$((SECONDS - t0)) s$([ $rc -eq 0 ] || echo ", FAILED ($rc)")"
  [ $rc -eq 0 ] || status=1
  return $rc
}

# debootstrap, installed when missing.
debroot_need_tools() {
  command -v debootstrap >/dev/null && return 0
  echo "debroot: installing debootstrap" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
}

# The Debian mirrors this machine uses (from its apt sources), else Debian's defaults.
debroot_apt_uris() {
  cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}'
  grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'
}

# This machine's npm registry and CA file setting (a TLS-inspecting proxy needs the latter).
debroot_npm_settings() {
  registry=https://registry.npmjs.org/; cafile=""
  . "$top/packaging/node.sh"
  local nb
  nb=$(siths_node_bindir 2>/dev/null) || return 0
  registry=$(PATH="$nb:$PATH" npm config get registry)
  cafile=$(PATH="$nb:$PATH" npm config get cafile)
  [ "$cafile" != null ] || cafile=""
}

# A minimal Debian 12 in $root with apt sources as an installed one has, no init (packages do not
# start services in it) and this machine's way out to the registries.
debroot_make() {
  local mirror security
  mirror=$(debroot_apt_uris | grep -E '/debian/?$' | head -n1 || true)
  security=$(debroot_apt_uris | grep -E '/debian-security/?$' | head -n1 || true)
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
  debroot_copy_network_settings
}

# This machine's way out to the two registries: apt proxy settings, locally added CA certificates
# (a TLS-inspecting proxy's), npm's registry and CA file. Nothing the project needs is copied.
debroot_copy_network_settings() {
  local n=0 f
  grep -hsiE '^\s*Acquire::[a-z]+::Proxy' /etc/apt/apt.conf /etc/apt/apt.conf.d/* \
    > "$root/etc/apt/apt.conf.d/90proxy" || rm -f "$root/etc/apt/apt.conf.d/90proxy"
  mkdir -p "$root/usr/local/share/ca-certificates"
  for f in /usr/local/share/ca-certificates/*.crt /etc/ssl/certs/*.pem; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    n=$((n + 1)); cp "$f" "$root/usr/local/share/ca-certificates/host-$n.crt"
  done
  debroot_npm_settings
  # Where this machine's npm trusts a CA file, the fresh root's npm trusts its system bundle,
  # which holds the anchors copied above once ca-certificates is installed.
  { echo "registry=$registry"; [ -z "$cafile" ] || echo "cafile=/etc/ssl/certs/ca-certificates.crt"; } \
    > "$root/etc/npmrc"
}

# Proxy settings, and CA bundle settings that point at the system's bundle, pass into the root's
# commands (debroot_run): exported as DEBROOT_PROXY_ENV before the private namespace is entered.
debroot_proxy_env() {
  DEBROOT_PROXY_ENV=$(env | grep -E '^((https?|no)_proxy|(HTTPS?|NO)_PROXY|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|CURL_CA_BUNDLE)=[^ ]*$' |
    tr '\n' ' ' || true)
  export DEBROOT_PROXY_ENV
}

debroot_mount() {
  mount --bind "$root" "$root"          # unshare (pcscd, the tests) fails in a plain directory
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount --bind /dev "$root/dev"
  mount --bind /dev/pts "$root/dev/pts"
  mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
}

debroot_run() { debroot_chroot "" "$@"; }     # debroot_run DIR CMD: CMD by /bin/sh in DIR
debroot_exec() { debroot_chroot exec "$@"; }  # the same in place of the caller: after
                                              # "debroot_exec DIR 'exec CMD' &", $! is CMD's pid
debroot_chroot() { # in a root login's environment
  # shellcheck disable=SC2086 # the proxy settings are NAME=value words
  $1 chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/sh TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ${DEBROOT_PROXY_ENV:-} \
    /bin/sh -c "cd $2 && $3"
}

# Processes still running inside the root are the caller's (nothing else runs there): stopped by
# pid. Then the root is removed, unless $1 is non-empty (its path is printed instead).
debroot_cleanup() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null || true
  done
  if [ -n "${1:-}" ]; then echo "debroot: root kept in $root" >&2
  else rm -rf --one-file-system "$root"; fi
}
