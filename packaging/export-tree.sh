#!/bin/bash
# export-tree.sh SRC DST — copies the checkout SRC into DST as a clone would have it: tracked and
# new files, nothing that .gitignore keeps out (no build folders, no node_modules). Outside git,
# everything but build*/, node_modules and .git. For package builds and fresh-machine tests.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 SRC DST" >&2; exit 2; }
src=$1 dst=$2
mkdir -p "$dst"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$src" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$src/$f" ] && printf '%s\0' "$f"; done |
    tar -C "$src" --null -T - -cf - | tar -C "$dst" -xf -
else
  tar -C "$src" --exclude='./build*' --exclude=node_modules --exclude=.git -cf - . | tar -C "$dst" -xf -
fi
