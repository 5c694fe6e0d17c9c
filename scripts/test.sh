#!/usr/bin/env bash
# npm test: its own set-up (dependencies, local infrastructure), then type-check, lint and the
# whole tap suite. Extra arguments go to tap (e.g. `npm test -- test/auth.int.test.ts`).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
# The services (on a cold machine: the MinIO build, the Kafka jars, initdb) come up while npm ci runs.
bash scripts/infra.sh up &
infra=$!
source scripts/ensure-deps.sh
wait "$infra" || { echo "local infrastructure did not come up (see above)" >&2; exit 1; }
eval "$(bash scripts/infra.sh env)"
export NODE_ENV=test # development defaults are refused unless NODE_ENV says development or test
# Whatever earlier runs left behind when their process died before its teardown (never a live run's).
node test/support/sweep-test-runs.ts || echo "sweep failed; continuing"
echo "set-up took $(( $(date +%s) - started )) s"

echo "== type-check"; tsc --noEmit
echo "== lint"; eslint --max-warnings 0 .; prettier --check --log-level warn "**/*.{ts,js,mjs}"
echo "== tests"
log=$(mktemp)
status=0
# Tests that stop a shared service (Kafka) run on their own, after the parallel ones.
serial=(test/backbone/kafka-outage.int.test.ts)
run_tap() { set +e; tap "$@" 2>&1 | tee -a "$log"; local s=${PIPESTATUS[0]}; set -e; [ "$s" -eq 0 ] || status=$s; }
if [ "$#" -gt 0 ]; then
  run_tap "$@"
else
  run_tap --exclude='test/backbone/kafka-outage.int.test.ts'
  for file in "${serial[@]}"; do [ -f "$file" ] && LEDGERLINE_KAFKA_OUTAGE_TEST=1 run_tap "$file"; done
fi
# tap closes each run with "# { total: N, pass: N, fail: N, ... }": restate the sum in the plain form CI reads.
sum() { grep -E '^# \{ total: ' "$log" | sed -nE "s/.*$1: ([0-9]+).*/\1/p" | awk '{ s += $1 } END { print s + 0 }'; }
pass=$(sum pass); fail=$(sum fail); skip=$(sum skip)
rm -f "$log"
if [ "$skip" -gt 0 ]; then echo "tests: $pass passed, $fail failed, $skip skipped"; else echo "tests: $pass passed, $fail failed"; fi
echo "total time $(( $(date +%s) - started )) s"
exit "$status"
