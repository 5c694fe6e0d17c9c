#!/usr/bin/env bash
# npm run bench: ratios against baselines measured in the same run (absolute times drift here).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-deps.sh
bash scripts/infra.sh up >/dev/null
eval "$(bash scripts/infra.sh env)"
exec node scripts/bench.ts "$@"
