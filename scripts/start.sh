#!/usr/bin/env bash
# npm start: install what is missing, bring the local infrastructure up, then run every
# process in the foreground. Ctrl-C stops the processes; `npm run infra down` stops the services.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-deps.sh
bash scripts/infra.sh up
eval "$(bash scripts/infra.sh env)"
# Development lets webhooks reach a receiver on this machine (production refuses non-public addresses).
export WEBHOOK_ALLOW_PRIVATE="${WEBHOOK_ALLOW_PRIVATE-loopback}"
export NODE_ENV=${NODE_ENV:-development} # the local services' credentials are development defaults
exec node scripts/run-all.ts
