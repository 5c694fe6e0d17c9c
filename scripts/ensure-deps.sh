#!/usr/bin/env bash
# Installs the npm dependencies (Node 24 itself comes from the `node` devDependency) when
# node_modules is missing or older than the lock file. Sourced by start.sh and test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm dependencies (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error
fi
export PATH="$PWD/node_modules/.bin:$PATH"
hash -r
node_version=$(node -v)
case "$node_version" in
  v24.*) ;;
  *) echo "expected Node 24 from node_modules/.bin, got $node_version" >&2; exit 1 ;;
esac
