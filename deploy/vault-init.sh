#!/bin/sh
# One-shot Vault bootstrap for docker-compose (runs in the hashicorp/vault image, busybox sh).
#  1. enables the AppRole auth method (and KV v2 at secret/ unless dev mode already did),
#  2. writes the app's secrets to KV v2 at <mount>/<path> (default secret/ledgerline),
#  3. creates policy + AppRole `ledgerline` that can only read that secret,
#  4. writes role_id and secret_id to $APPROLE_DIR for deploy/app-entrypoint.sh to pick up,
#  5. checks the whole chain by logging in with the AppRole and reading the secret back.
# Safe to run again: every step is an upsert; JWT_SECRET is kept if one is stored already.
set -eu

: "${VAULT_ADDR:?}" "${VAULT_TOKEN:?}" "${DATABASE_URL:?}" "${S3_ACCESS_KEY_ID:?}" "${S3_SECRET_ACCESS_KEY:?}"
KV_MOUNT=${VAULT_KV_MOUNT:-secret}
KV_PATH=${VAULT_KV_PATH:-ledgerline}
ROLE=${VAULT_ROLE_NAME:-ledgerline}
APPROLE_DIR=${APPROLE_DIR:-/vault/approle}
APP_UID=${APP_UID:-1000} # uid of user `node` in the app image: the only reader of the credentials

log() { echo "vault-init: $*"; }

# depends_on waits for a healthy Vault; this loop only covers a restart race.
i=0
until vault status >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -lt 60 ] || { log "Vault at $VAULT_ADDR not ready after 60 s" >&2; exit 1; }
  sleep 1
done

if ! vault secrets list -format=json | grep -q "\"$KV_MOUNT/\""; then
  log "enabling KV v2 at $KV_MOUNT/"
  vault secrets enable -path="$KV_MOUNT" -version=2 kv
fi
if ! vault auth list -format=json | grep -q '"approle/"'; then
  log "enabling AppRole auth"
  vault auth enable approle
fi

# JWT_SECRET: taken from the environment, else the one already stored (tokens stay valid across
# re-runs), else 32 random bytes from Vault's own generator.
jwt=${JWT_SECRET:-}
[ -n "$jwt" ] || jwt=$(vault kv get -mount="$KV_MOUNT" -field=JWT_SECRET "$KV_PATH" 2>/dev/null || true)
[ -n "$jwt" ] || jwt=$(vault write -field=random_bytes sys/tools/random/32 format=hex)

log "writing secret $KV_MOUNT/$KV_PATH"
vault kv put -mount="$KV_MOUNT" "$KV_PATH" \
  DATABASE_URL="$DATABASE_URL" \
  JWT_SECRET="$jwt" \
  S3_ACCESS_KEY_ID="$S3_ACCESS_KEY_ID" \
  S3_SECRET_ACCESS_KEY="$S3_SECRET_ACCESS_KEY" >/dev/null

log "writing policy and AppRole $ROLE"
vault policy write "$ROLE" - <<EOF
# Ledgerline services: read their own secret, nothing else.
path "$KV_MOUNT/data/$KV_PATH" {
  capabilities = ["read"]
}
EOF
# Tokens are short-lived (the app logs in again when it needs to); the secret_id does not expire
# and has unlimited uses because every service replica logs in with the same one.
vault write "auth/approle/role/$ROLE" \
  token_policies="$ROLE" token_ttl=1h token_max_ttl=4h \
  secret_id_ttl=0 secret_id_num_uses=0 >/dev/null

role_id=$(vault read -field=role_id "auth/approle/role/$ROLE/role-id")
secret_id=$(vault write -f -field=secret_id "auth/approle/role/$ROLE/secret-id")

# Write atomically (tmp + rename), readable only by the app user (the directory stays traversable).
mkdir -p "$APPROLE_DIR"
chmod 0755 "$APPROLE_DIR"
umask 077
printf '%s' "$role_id" >"$APPROLE_DIR/role_id.tmp"
printf '%s' "$secret_id" >"$APPROLE_DIR/secret_id.tmp"
chown "$APP_UID" "$APPROLE_DIR/role_id.tmp" "$APPROLE_DIR/secret_id.tmp"
chmod 0400 "$APPROLE_DIR/role_id.tmp" "$APPROLE_DIR/secret_id.tmp"
mv -f "$APPROLE_DIR/role_id.tmp" "$APPROLE_DIR/role_id"
mv -f "$APPROLE_DIR/secret_id.tmp" "$APPROLE_DIR/secret_id"

# Prove the app's path works: AppRole login, then read the secret with that token only.
app_token=$(vault write -field=token auth/approle/login role_id="$role_id" secret_id="$secret_id")
VAULT_TOKEN=$app_token vault kv get -mount="$KV_MOUNT" -field=DATABASE_URL "$KV_PATH" >/dev/null ||
  { log "AppRole $ROLE cannot read $KV_MOUNT/$KV_PATH" >&2; exit 1; }
VAULT_TOKEN=$app_token vault token revoke -self >/dev/null 2>&1 || true

log "done: AppRole credentials in $APPROLE_DIR (role_id, secret_id)"
