#!/bin/sh
# Entrypoint of the Ledgerline image (every service): pick up the Vault AppRole credentials that
# deploy/vault-init.sh wrote to the shared volume, then replace this shell with the command.
#
# VAULT_ROLE_ID / VAULT_SECRET_ID already set in the environment win over the files, so the same
# image runs under an orchestrator that injects them another way (e.g. Kubernetes secrets).
set -eu

role_file=${VAULT_ROLE_ID_FILE:-/vault/approle/role_id}
secret_file=${VAULT_SECRET_ID_FILE:-/vault/approle/secret_id}

if [ -z "${VAULT_ROLE_ID:-}" ] && [ -r "$role_file" ]; then
  VAULT_ROLE_ID=$(cat "$role_file")
  export VAULT_ROLE_ID
fi
if [ -z "${VAULT_SECRET_ID:-}" ] && [ -r "$secret_file" ]; then
  VAULT_SECRET_ID=$(cat "$secret_file")
  export VAULT_SECRET_ID
fi

# Fail fast with a clear message instead of a Vault login error deep inside the app.
case "${USE_VAULT:-false}" in
  true | 1)
    if [ -z "${VAULT_ROLE_ID:-}" ] || [ -z "${VAULT_SECRET_ID:-}" ]; then
      echo "app-entrypoint: USE_VAULT=true but VAULT_ROLE_ID/VAULT_SECRET_ID are not set and $role_file/$secret_file are missing or unreadable (did vault-init run?)" >&2
      exit 78 # EX_CONFIG
    fi
    ;;
esac

if [ "$#" -eq 0 ]; then
  echo "app-entrypoint: no command given" >&2
  exit 64 # EX_USAGE
fi
exec "$@"
