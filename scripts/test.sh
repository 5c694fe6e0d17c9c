#!/usr/bin/env bash
# npm test: its own set-up (dependencies, local infrastructure), then type-check, lint and the
# whole tap suite. Extra arguments go to tap (e.g. `npm test -- test/auth.int.test.ts`).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
source scripts/ensure-deps.sh
bash scripts/infra.sh up
eval "$(bash scripts/infra.sh env)"
echo "set-up took $(( $(date +%s) - started )) s"

echo "== type-check"; tsc --noEmit
echo "== lint"; eslint --max-warnings 0 .
echo "== tests"
log=$(mktemp)
set +e
tap "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# tap closes with "# { total: N, pass: N, fail: N, ... }": restate it in the plain form CI reads.
summary=$(grep -E '^# \{ total: ' "$log" | tail -1)
pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary"); fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
skip=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
rm -f "$log"
echo "tests: ${pass:-0} passed, ${fail:-0} failed${skip:+, $skip skipped}"
echo "total time $(( $(date +%s) - started )) s"
exit "$status"
