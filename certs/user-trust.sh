#!/bin/bash
# user-trust.sh [CERTDIR] | user-trust.sh --remove — the user service's certificate step, run as
# the desktop user before every start of the bridge (ExecStartPre): makes or renews this user's
# own name-constrained CA and server certificate in CERTDIR (default
# ~/.local/state/siths-bridge/certs) with localhost-ca.sh, then trusts that CA in this user's
# browser stores only — the NSS database Chromium uses (~/.pki/nssdb, made if missing) and every
# Firefox profile, also one made since the last start — and removes this user's older CAs from
# them. Never a system-wide store, never root. Idempotent; with nothing to do it only reads.
# --remove takes every CA of this user out of those stores (the state folder is left to delete).
#
# Our entries are found by their nickname: "siths-bridge local CA (user NAME, SERIAL)", SERIAL
# being the CA's serial number in hex as `openssl x509 -serial` prints it. docs/install.md.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
user=$(id -un)
prefix="siths-bridge local CA (user $user, "

usage() { echo "usage: $0 [CERTDIR] | $0 --remove" >&2; exit 2; }
remove=0 dir=""
for a in "$@"; do
  case "$a" in
    --remove) remove=1 ;;
    -h|--help) echo "usage: $0 [CERTDIR] | $0 --remove"; exit 0 ;;
    -*) usage ;;
    *) [ -z "$dir" ] || usage; dir=$a ;;
  esac
done
[ -n "$HOME" ] || { echo "user-trust: HOME is not set" >&2; exit 1; }
[ -n "$dir" ] || dir="$HOME/.local/state/siths-bridge/certs"
command -v certutil >/dev/null || { echo "user-trust: certutil not found (apt-get install libnss3-tools)" >&2; exit 1; }

# The user's NSS databases: Chromium's (always) and each Firefox profile, from profiles.ini (a
# profile made with -CreateProfile has no cert9.db before its first run) and any folder that
# already holds a cert9.db.
stores() {
  echo "$HOME/.pki/nssdb"
  local top ini p
  # Firefox's own folder moved to ${XDG_CONFIG_HOME:-~/.config}/mozilla/firefox (Debian's
  # firefox-esr 153 uses it for new users); older profiles stay in ~/.mozilla/firefox.
  for top in "${XDG_CONFIG_HOME:-$HOME/.config}/mozilla/firefox" "$HOME/.mozilla/firefox" \
             "$HOME/snap/firefox/common/.mozilla/firefox"; do
    [ -d "$top" ] || continue
    ini="$top/profiles.ini"
    if [ -f "$ini" ]; then
      # IsRelative= follows Path= within a section in what Firefox writes; an absolute path
      # stays as it is, a relative one is under the folder of profiles.ini.
      sed -n 's/^Path=//p' "$ini" | while IFS= read -r p; do
        p=${p%$'\r'}
        case "$p" in /*) [ -d "$p" ] && echo "$p" ;; *) [ -d "$top/$p" ] && echo "$top/$p" ;; esac
      done
    fi
    for p in "$top"/*/; do [ -f "$p/cert9.db" ] && echo "${p%/}"; done
  done | sort -u
}

# This user's CA nicknames in one database.
ours() {
  certutil -L -d "sql:$1" 2>/dev/null | grep -F "$prefix" | sed 's/^\(.*)\)[[:space:]].*$/\1/' || true
}

remove_ours() { # db [keep]
  local n
  while IFS= read -r n; do
    if [ -z "$n" ] || [ "$n" = "${2:-}" ]; then continue; fi
    # A renewal that failed half-way can leave two copies under one nickname.
    while certutil -L -d "sql:$1" -n "$n" >/dev/null 2>&1; do certutil -D -d "sql:$1" -n "$n"; done
    echo "user-trust: removed $n from $1"
  done < <(ours "$1")
}

trust_in() { # db ca nick
  local db=$1
  if [ ! -f "$db/cert9.db" ]; then
    (umask 077 && mkdir -p "$db")
    certutil -N -d "sql:$db" --empty-password
    echo "user-trust: made NSS database $db"
  fi
  if ! certutil -L -d "sql:$db" -n "$3" >/dev/null 2>&1; then
    certutil -A -d "sql:$db" -n "$3" -t "C,," -i "$2"
    echo "user-trust: trusted $3 in $db"
  fi
  remove_ours "$db" "$3"
}

if [ $remove = 1 ]; then
  while IFS= read -r db; do
    [ -f "$db/cert9.db" ] && remove_ours "$db"
  done < <(stores)
  exit 0
fi

# The certificate first: without it the service cannot start (this step's failure fails it).
(umask 077 && mkdir -p "$(dirname "$dir")")
made=$("$here/localhost-ca.sh" "$dir")
case "$made" in *"already holds a valid certificate"*) ;; *) echo "$made" ;; esac
[ -s "$dir/ca.pem" ] || { echo "user-trust: no CA in $dir" >&2; exit 1; }
serial=$(openssl x509 -in "$dir/ca.pem" -noout -serial)
nick="$prefix${serial#serial=})"

# A store that cannot be updated (a damaged profile) must not keep the bridge from the others:
# it is reported in the journal and tried again on the next start.
status=0
while IFS= read -r db; do
  if ! out=$(trust_in "$db" "$dir/ca.pem" "$nick" 2>&1); then
    echo "user-trust: warning: could not update $db: $out" >&2
    status=1
  elif [ -n "$out" ]; then
    echo "$out"
  fi
done < <(stores)
[ $status = 0 ] || echo "user-trust: some stores were not updated; siths-bridge doctor names them" >&2
exit 0
