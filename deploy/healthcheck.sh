#!/bin/sh
# Container healthcheck of the Ledgerline services: GET http://127.0.0.1:<port>/health must answer 2xx
# within 4 s. The slim Node image has no curl or wget, so Node's own fetch does the request.
#   usage: sh deploy/healthcheck.sh <port>
set -eu
port=${1:?usage: healthcheck.sh <port>}
# shellcheck disable=SC2016 # the ${...} is JavaScript, not shell
exec node -e '
fetch(`http://127.0.0.1:${process.argv[1]}/health`, { signal: AbortSignal.timeout(4000) })
  .then((res) => process.exit(res.ok ? 0 : 1), () => process.exit(1));
' "$port"
