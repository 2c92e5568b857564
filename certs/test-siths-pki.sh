#!/bin/sh
# test-siths-pki.sh DIR — makes the TEST SITHS e-id CA hierarchy used by the virtual card, the
# daemon's test issuer and the tests: a root CA and two person CAs (trust level 3 and 2), PEM
# certificates in DIR with their unencrypted keys beside them. Idempotent: existing files are kept.
#
#   root-ca.pem / root-ca.key          CN=TEST SITHS e-id Root CA v2
#   person-3-ca.pem / person-3-ca.key  CN=TEST SITHS e-id Person HSA-id 3 CA v1 (issued by the root)
#   person-2-ca.pem / person-2-ca.key  CN=TEST SITHS e-id Person HSA-id 2 CA v1 (issued by the root)
#   chain-3.pem / chain-2.pem          person CA + root, for convenience
#   cmp-server.pem / cmp-server.key    CN=TEST SITHS CMP server (issued by the root): signs the
#                                      CMP messages of siths-test-ca (server/testca/)
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
mkdir -p "$dir"
cd "$dir"

# Test-only certificate policy arc (2.999 is the ITU-T example arc): trust level N = 2.999.752.1.N.
policy() { echo "2.999.752.1.$1"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/siths-pki.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# `openssl ca` is used (not `req -x509`) because only it can backdate notBefore, so the CAs cover
# the validity of the seed's card (2023-11-18 onwards).
cat > "$work/ca.cnf" <<'EOF'
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = $ENV::SITHS_PKI_WORK/index.txt
new_certs_dir = $ENV::SITHS_PKI_WORK
serial = $ENV::SITHS_PKI_WORK/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ any ]
countryName = optional
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ root_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ person_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = $ENV::SITHS_PKI_POLICY
[ cmp_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = cmcRA
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
SITHS_PKI_WORK=$work
SITHS_PKI_POLICY=2.5.29.32.0
export SITHS_PKI_WORK SITHS_PKI_POLICY
: > "$work/index.txt"

start=20200101000000Z
end=20451231235959Z

newkey() { [ -f "$1" ] || { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.tmp" 2>/dev/null && mv "$1.tmp" "$1"; }; chmod 600 "$1"; }

# sign NAME SUBJECT EXT ISSUER-NAME|-
sign() {
  name=$1 subj=$2 ext=$3 issuer=$4
  [ -f "$name.pem" ] && return 0
  newkey "$name.key"
  openssl rand -hex 16 > "$work/serial"
  openssl req -new -key "$name.key" -subj "$subj" -utf8 -config "$work/ca.cnf" -out "$work/$name.csr"
  if [ "$issuer" = - ]; then
    openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile "$name.key" -utf8 -notext \
      -startdate $start -enddate $end -extensions "$ext" -in "$work/$name.csr" -out "$name.pem.tmp" 2>/dev/null
  else
    openssl ca -batch -config "$work/ca.cnf" -cert "$issuer.pem" -keyfile "$issuer.key" -utf8 -notext \
      -startdate $start -enddate $end -extensions "$ext" -in "$work/$name.csr" -out "$name.pem.tmp" 2>/dev/null
  fi
  mv "$name.pem.tmp" "$name.pem"
}

sign root-ca "/C=SE/O=Inera AB/CN=TEST SITHS e-id Root CA v2" root_ext -
SITHS_PKI_POLICY=$(policy 3) sign person-3-ca "/C=SE/O=Inera AB/CN=TEST SITHS e-id Person HSA-id 3 CA v1" person_ext root-ca
SITHS_PKI_POLICY=$(policy 2) sign person-2-ca "/C=SE/O=Inera AB/CN=TEST SITHS e-id Person HSA-id 2 CA v1" person_ext root-ca
sign cmp-server "/C=SE/O=Inera AB/CN=TEST SITHS CMP server" cmp_ext root-ca
for l in 3 2; do cat "person-$l-ca.pem" root-ca.pem > "chain-$l.pem.tmp" && mv "chain-$l.pem.tmp" "chain-$l.pem"; done
openssl verify -CAfile root-ca.pem person-3-ca.pem person-2-ca.pem cmp-server.pem >/dev/null
