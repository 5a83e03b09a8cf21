#!/usr/bin/env bash
# scripts/services.sh — real backing services for Yinling's tests and local development, on loopback.
#
#   bash scripts/services.sh up [postgres|redis|minio|keycloak ...]   install if missing, start, wait until ready
#   bash scripts/services.sh down [SERVICE ...]                        stop them
#   bash scripts/services.sh status [SERVICE ...]                      one line per service; non-zero if any is down
#   bash scripts/services.sh env                                       print the `export` lines the test suite reads
#
# State (data dirs, pid files, logs, the env file) lives in ${YINLING_SERVICES_DIR:-<repo>/.services};
# downloads and builds are cached in ${YINLING_CACHE_DIR:-$HOME/.cache/yinling}, so a warm machine starts fast.
# Everything installs from Debian packages, the Go module proxy and Maven Central (no Docker). Written to run
# as root on a fresh Debian machine (CI); `up` is idempotent and `down` stops everything it started.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${YINLING_SERVICES_DIR:-$REPO_ROOT/.services}
CACHE_DIR=${YINLING_CACHE_DIR:-$HOME/.cache/yinling}
ALL_SERVICES=(postgres redis minio keycloak)

# --- ports (loopback only) ---------------------------------------------------------------------------------------
PG_PORT=${YINLING_PG_PORT:-55432}
REDIS_PORT=${YINLING_REDIS_PORT:-56379}
MINIO_PORT=${YINLING_MINIO_PORT:-59000}
MINIO_CONSOLE_PORT=${YINLING_MINIO_CONSOLE_PORT:-$((MINIO_PORT + 1))}
KC_PORT=${YINLING_KEYCLOAK_PORT:-58080}
KC_MGMT_PORT=${YINLING_KEYCLOAK_MGMT_PORT:-59080}
HOST=127.0.0.1

# --- versions and credentials ------------------------------------------------------------------------------------
PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_DB=yinling_test
PG_OWNER=yinling_owner PG_OWNER_PASSWORD=yinling_owner
PG_APP=yinling_app PG_APP_PASSWORD=yinling_app

# MinIO's last community release is RELEASE.2025-10-15T17-29-55Z (commit 9e49d5e7a648, Go module pseudo-version
# v0.0.0-20251015172955-9e49d5e7a648). The Go module proxy reachable from these machines answers 403 for that
# version and serves only the final commit of the archived repository, so we try the release first and fall back.
MINIO_MODULE=github.com/minio/minio
read -r -a MINIO_VERSIONS <<<"${YINLING_MINIO_VERSION:-v0.0.0-20251015172955-9e49d5e7a648 v0.0.0-20260212201848-7aac2a2c5b7c}"
MINIO_USER=yinling-test
MINIO_PASSWORD=yinling-test-secret

KC_VERSION=${YINLING_KEYCLOAK_VERSION:-26.4.7}
KC_HOME=$CACHE_DIR/keycloak-$KC_VERSION
KC_REALM=yinling-test
KC_REALM_FILE=$REPO_ROOT/tests/keycloak/yinling-test-realm.json
KC_TIMEOUT=${YINLING_KEYCLOAK_TIMEOUT:-180}
KC_ADMIN_USER=admin KC_ADMIN_PASSWORD=admin

# --- helpers -----------------------------------------------------------------------------------------------------
log() { printf '[services] %s\n' "$*" >&2; }

# fail SERVICE LOGFILE MESSAGE: say which service failed, show the end of its log, exit non-zero.
fail() {
  local service=${1:-${CURRENT_SERVICE:-services}} logfile=$2
  shift 2
  printf '[services] ERROR (%s): %s\n' "$service" "$*" >&2
  if [[ -n $logfile && -f $logfile ]]; then
    printf '[services] last lines of %s:\n' "$logfile" >&2
    tail -n 40 "$logfile" | sed 's/^/    /' >&2
  fi
  exit 1
}

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1
  fi
}

# apt_install PACKAGE...: `apt-get update` once per run, then install; output goes to <state dir>/apt.log.
APT_UPDATED=0
apt_install() {
  local aptlog=$STATE_DIR/apt.log
  export DEBIAN_FRONTEND=noninteractive
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    as_root apt-get update >>"$aptlog" 2>&1 9>&- || fail "${CURRENT_SERVICE:-apt}" "$aptlog" "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  as_root apt-get install -y --no-install-recommends "$@" >>"$aptlog" 2>&1 9>&- ||
    fail "${CURRENT_SERVICE:-apt}" "$aptlog" "apt-get install $* failed"
}

# need_cmd COMMAND PACKAGE...: install the Debian packages when COMMAND is missing.
need_cmd() {
  local cmd=$1
  shift
  command -v "$cmd" >/dev/null 2>&1 || apt_install "$@"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" 2>/dev/null || true; }

pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile NAME PIDFILE: TERM the process group started by `launch`, then KILL after 30 s.
stop_pidfile() {
  local name=$1 pidfile=$2 pid i
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    log "$name: not running"
    return 0
  fi
  pid=$(cat "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: still running after 30 s, sending KILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  log "$name: stopped"
}

# launch PIDFILE LOGFILE COMMAND...: start COMMAND in the background in its own session (so it outlives the
# shell that started it), with output in LOGFILE and its pid in PIDFILE.
launch() {
  local pidfile=$1 logfile=$2
  shift 2
  setsid nohup "$@" >"$logfile" 2>&1 </dev/null 9>&- &
  echo $! >"$pidfile"
}

# wait_until SERVICE LOGFILE PIDFILE TIMEOUT COMMAND...: poll COMMAND every second until it succeeds; fail early
# if the process behind PIDFILE (when given) has died.
wait_until() {
  local service=$1 logfile=$2 pidfile=$3 timeout=$4 start=$SECONDS
  shift 4
  until "$@"; do
    if [[ -n $pidfile ]] && ! pid_alive "$pidfile"; then
      fail "$service" "$logfile" "the process exited before becoming ready"
    fi
    if ((SECONDS - start >= timeout)); then
      fail "$service" "$logfile" "not ready after ${timeout}s"
    fi
    sleep 1
  done
}

# --- PostgreSQL 15 (Debian) --------------------------------------------------------------------------------------
# initdb/pg_ctl refuse to run as root, so the cluster belongs to the `postgres` user. If that user cannot reach the
# state dir (e.g. a checkout under /root), the cluster lives under /var/lib/postgresql and the state dir gets a
# symlink to it.
pg_dir() {
  local link=$STATE_DIR/postgres
  if [[ -L $link ]]; then
    readlink -f "$link"
  elif [[ $EUID -ne 0 ]] || [[ -d $link ]] || runuser -u postgres -- test -x "$STATE_DIR" 2>/dev/null; then
    echo "$link"
  else
    echo "/var/lib/postgresql/yinling-$(printf '%s' "$STATE_DIR" | md5sum | cut -c1-12)"
  fi
}

as_pg() {
  if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() { [[ -x $PG_BIN/pg_isready ]] && "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 2; }

pg_psql() {
  local dir=$1 db=$2
  shift 2
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/run" -p "$PG_PORT" -U postgres -d "$db" "$@"
}

up_postgres() {
  [[ -x $PG_BIN/initdb ]] || apt_install "postgresql-$PG_MAJOR" postgresql-client-$PG_MAJOR
  [[ -x $PG_BIN/initdb ]] || fail postgres "" "$PG_BIN/initdb is still missing after installing postgresql"
  if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then fail postgres "" "no 'postgres' system user"; fi

  local dir data logfile
  dir=$(pg_dir)
  data=$dir/data
  logfile=$dir/postgres.log
  mkdir -p "$dir/run"
  [[ $EUID -eq 0 ]] && chown postgres:postgres "$dir" "$dir/run"
  chmod 700 "$dir"
  [[ $dir == "$STATE_DIR/postgres" ]] || ln -sfn "$dir" "$STATE_DIR/postgres"

  if [[ ! -s $data/PG_VERSION ]]; then
    log "postgres: initdb $data"
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
      fail postgres "$dir/initdb.log" "initdb failed"
  fi

  if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "postgres: already running"
  else
    port_open "$PG_PORT" && fail postgres "" "port $HOST:$PG_PORT is already taken by another process"
    log "postgres: starting on $HOST:$PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$logfile" -w -t 60 start -o \
      "-c listen_addresses=$HOST -c port=$PG_PORT -c unix_socket_directories=$dir/run -c fsync=off \
       -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null 9>&- ||
      fail postgres "$logfile" "pg_ctl start failed"
  fi
  wait_until postgres "$logfile" "" 30 pg_running

  # Roles and database (idempotent). The owner runs migrations and owns what it creates, so it can GRANT on it;
  # the application role owns nothing and cannot bypass row-level security.
  pg_psql "$dir" postgres >"$dir/bootstrap.log" 2>&1 <<SQL || fail postgres "$dir/bootstrap.log" "role/database bootstrap failed"
SELECT format('CREATE ROLE %I', r) FROM unnest(ARRAY['$PG_OWNER', '$PG_APP']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
ALTER ROLE $PG_OWNER WITH LOGIN PASSWORD '$PG_OWNER_PASSWORD' NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE $PG_APP WITH LOGIN PASSWORD '$PG_APP_PASSWORD' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_OWNER'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB') \gexec
ALTER DATABASE $PG_DB OWNER TO $PG_OWNER;
GRANT CONNECT, TEMPORARY ON DATABASE $PG_DB TO $PG_APP;
-- The test suite drops its scratch databases WITH (FORCE): the owner may end the app role's leftover sessions.
GRANT pg_signal_backend TO $PG_OWNER;
SQL
  pg_psql "$dir" "$PG_DB" >>"$dir/bootstrap.log" 2>&1 <<SQL || fail postgres "$dir/bootstrap.log" "schema grants failed"
ALTER SCHEMA public OWNER TO $PG_OWNER;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO $PG_APP;
SQL
  log "postgres: ready on $HOST:$PG_PORT (database $PG_DB)"
}

down_postgres() {
  local dir
  dir=$(pg_dir)
  if [[ -x $PG_BIN/pg_ctl && -s $dir/data/PG_VERSION ]] && as_pg "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    log "postgres: stopped"
  else
    log "postgres: not running"
  fi
}

# --- Redis (Debian) ----------------------------------------------------------------------------------------------
redis_running() { [[ $(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

up_redis() {
  need_cmd redis-server redis-server redis-tools
  need_cmd redis-cli redis-tools
  local dir=$STATE_DIR/redis
  mkdir -p "$dir"
  if redis_running; then
    log "redis: already running"
  else
    port_open "$REDIS_PORT" && fail redis "" "port $HOST:$REDIS_PORT is already taken by another process"
    log "redis: starting on $HOST:$REDIS_PORT"
    redis-server --bind "$HOST" --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" 9>&- ||
      fail redis "$dir/redis.log" "redis-server failed to start"
    wait_until redis "$dir/redis.log" "" 30 redis_running
  fi
  log "redis: ready on $HOST:$REDIS_PORT"
}

# Only stop the redis-server this state dir started (its pid file), never whatever else answers on the port.
down_redis() {
  local pidfile=$STATE_DIR/redis/redis.pid pid i
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    log "redis: not running"
    return 0
  fi
  pid=$(cat "$pidfile")
  redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  for ((i = 0; i < 20; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  rm -f "$pidfile"
  log "redis: stopped"
}

# --- MinIO (built from source through the Go module proxy) -------------------------------------------------------
minio_bin() {
  local v
  for v in "${MINIO_VERSIONS[@]}"; do
    if [[ -x $CACHE_DIR/minio/$v/minio ]]; then
      echo "$CACHE_DIR/minio/$v/minio"
      return 0
    fi
  done
  return 1
}

build_minio() {
  command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
  command -v go >/dev/null || fail minio "" "Go (>= 1.24) is needed to build MinIO and was not found"
  local v buildlog=$CACHE_DIR/minio/build.log
  mkdir -p "$CACHE_DIR/minio"
  : >"$buildlog"
  for v in "${MINIO_VERSIONS[@]}"; do
    log "minio: go install $MINIO_MODULE@$v (takes minutes on 2 cores; log: $buildlog)"
    if GOBIN=$CACHE_DIR/minio/$v.tmp go install "$MINIO_MODULE@$v" >>"$buildlog" 2>&1; then
      rm -rf "$CACHE_DIR/minio/$v"
      mv "$CACHE_DIR/minio/$v.tmp" "$CACHE_DIR/minio/$v"
      return 0
    fi
    rm -rf "$CACHE_DIR/minio/$v.tmp"
    log "minio: $v is not available, trying the next version"
  done
  fail minio "$buildlog" "could not build MinIO (tried ${MINIO_VERSIONS[*]})"
}

minio_running() { [[ $(http_code "http://$HOST:$MINIO_PORT/minio/health/ready") == 200 ]]; }

up_minio() {
  need_cmd curl curl
  local bin dir=$STATE_DIR/minio
  bin=$(minio_bin) || { build_minio && bin=$(minio_bin); }
  mkdir -p "$dir/data"
  if pid_alive "$dir/minio.pid"; then
    log "minio: already running"
  else
    port_open "$MINIO_PORT" && fail minio "" "port $HOST:$MINIO_PORT is already taken by another process"
    log "minio: starting on $HOST:$MINIO_PORT"
    launch "$dir/minio.pid" "$dir/minio.log" env MINIO_ROOT_USER="$MINIO_USER" MINIO_ROOT_PASSWORD="$MINIO_PASSWORD" \
      MINIO_BROWSER=off "$bin" server "$dir/data" --address "$HOST:$MINIO_PORT" \
      --console-address "$HOST:$MINIO_CONSOLE_PORT" --quiet
  fi
  wait_until minio "$dir/minio.log" "$dir/minio.pid" 60 minio_running
  log "minio: ready on $HOST:$MINIO_PORT"
}

down_minio() { stop_pidfile minio "$STATE_DIR/minio/minio.pid"; }

# --- Keycloak (server distribution from Maven Central, on the JDK) -----------------------------------------------
# Keycloak 26 runs on JDK 17 (deprecated), 21 or 25: prefer 21, then 25, then 17.
find_java_home() {
  local v d
  for v in 21 25 17; do
    for d in /usr/lib/jvm/*-"$v"-* /usr/lib/jvm/*-"$v"; do
      [[ -x $d/bin/java ]] && { echo "$d"; return 0; }
    done
  done
  return 1
}

install_keycloak() {
  [[ -x $KC_HOME/bin/kc.sh ]] && return 0
  need_cmd unzip unzip
  local zip=$CACHE_DIR/keycloak-quarkus-dist-$KC_VERSION.zip
  if [[ ! -s $zip ]]; then
    need_cmd mvn maven
    log "keycloak: downloading keycloak-quarkus-dist $KC_VERSION from Maven Central"
    mvn -B -q dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$KC_VERSION:zip" \
      -DoutputDirectory="$CACHE_DIR" >"$CACHE_DIR/keycloak-download.log" 2>&1 ||
      fail keycloak "$CACHE_DIR/keycloak-download.log" "mvn dependency:copy failed"
  fi
  log "keycloak: unpacking $zip"
  rm -rf "$KC_HOME.tmp"
  mkdir -p "$KC_HOME.tmp"
  unzip -q "$zip" -d "$KC_HOME.tmp" || fail keycloak "" "could not unzip $zip"
  rm -rf "$KC_HOME"
  mv "$KC_HOME.tmp/keycloak-$KC_VERSION" "$KC_HOME"
  rm -rf "$KC_HOME.tmp"
}

keycloak_running() { [[ $(http_code "http://$HOST:$KC_MGMT_PORT/health/ready") == 200 ]]; }
keycloak_realm_ready() {
  [[ $(http_code "http://$HOST:$KC_PORT/realms/$KC_REALM/.well-known/openid-configuration") == 200 ]]
}

# Keycloak is the slowest to start, so `up` launches it first and waits for it last.
launch_keycloak() {
  need_cmd curl curl
  local java_home dir=$STATE_DIR/keycloak
  mkdir -p "$dir"
  if pid_alive "$dir/keycloak.pid"; then
    log "keycloak: already running"
    return 0
  fi
  java_home=$(find_java_home) || { apt_install openjdk-17-jre-headless && java_home=$(find_java_home); } ||
    fail keycloak "" "no JDK 21/25/17 found under /usr/lib/jvm"
  install_keycloak
  [[ -f $KC_REALM_FILE ]] || fail keycloak "" "realm file $KC_REALM_FILE is missing"
  port_open "$KC_PORT" && fail keycloak "" "port $HOST:$KC_PORT is already taken by another process"
  port_open "$KC_MGMT_PORT" && fail keycloak "" "port $HOST:$KC_MGMT_PORT is already taken by another process"
  # --import-realm reads <kc home>/data/import/; the dev-mem database starts empty each time.
  mkdir -p "$KC_HOME/data/import"
  cp "$KC_REALM_FILE" "$KC_HOME/data/import/"
  log "keycloak: starting on $HOST:$KC_PORT (management $KC_MGMT_PORT, JAVA_HOME=$java_home)"
  launch "$dir/keycloak.pid" "$dir/keycloak.log" env JAVA_HOME="$java_home" \
    KC_BOOTSTRAP_ADMIN_USERNAME="$KC_ADMIN_USER" KC_BOOTSTRAP_ADMIN_PASSWORD="$KC_ADMIN_PASSWORD" \
    "$KC_HOME/bin/kc.sh" start-dev --db=dev-mem --http-host="$HOST" --http-port="$KC_PORT" \
    --http-management-port="$KC_MGMT_PORT" --health-enabled=true --import-realm
}

wait_keycloak() {
  local dir=$STATE_DIR/keycloak
  wait_until keycloak "$dir/keycloak.log" "$dir/keycloak.pid" "$KC_TIMEOUT" keycloak_running
  wait_until keycloak "$dir/keycloak.log" "$dir/keycloak.pid" 30 keycloak_realm_ready
  log "keycloak: ready on $HOST:$KC_PORT (realm $KC_REALM)"
}

down_keycloak() { stop_pidfile keycloak "$STATE_DIR/keycloak/keycloak.pid"; }

# --- env, status, dispatch ---------------------------------------------------------------------------------------
print_env() {
  cat <<EOF
export YINLING_TEST_PG_OWNER_URL=postgresql+asyncpg://$PG_OWNER:$PG_OWNER_PASSWORD@$HOST:$PG_PORT/$PG_DB
export YINLING_TEST_PG_APP_URL=postgresql+asyncpg://$PG_APP:$PG_APP_PASSWORD@$HOST:$PG_PORT/$PG_DB
export YINLING_TEST_PG_ADMIN_DSN=postgresql://$PG_OWNER:$PG_OWNER_PASSWORD@$HOST:$PG_PORT/postgres
export YINLING_TEST_REDIS_URL=redis://$HOST:$REDIS_PORT/0
export YINLING_TEST_S3_ENDPOINT=$HOST:$MINIO_PORT
export YINLING_TEST_S3_ACCESS_KEY=$MINIO_USER
export YINLING_TEST_S3_SECRET_KEY=$MINIO_PASSWORD
export YINLING_TEST_S3_SECURE=false
export YINLING_TEST_KEYCLOAK_URL=http://$HOST:$KC_PORT
export YINLING_TEST_KEYCLOAK_REALM=$KC_REALM
export YINLING_TEST_KEYCLOAK_CLIENT_ID=yinling-web
export YINLING_TEST_KEYCLOAK_CLIENT_SECRET=yinling-web-secret
export YINLING_TEST_KEYCLOAK_ADMIN_CLIENT_ID=yinling-admin
export YINLING_TEST_KEYCLOAK_ADMIN_CLIENT_SECRET=yinling-admin-secret
export YINLING_TEST_KEYCLOAK_ADMIN_USER=$KC_ADMIN_USER
export YINLING_TEST_KEYCLOAK_ADMIN_PASSWORD=$KC_ADMIN_PASSWORD
export YINLING_TEST_KEYCLOAK_USER=kc-county-admin
export YINLING_TEST_KEYCLOAK_USER_PASSWORD=Test-pass-123
EOF
}

service_status() {
  case $1 in
    postgres) pg_running && echo "up   $HOST:$PG_PORT" ;;
    redis) command -v redis-cli >/dev/null && redis_running && echo "up   $HOST:$REDIS_PORT" ;;
    minio) minio_running && echo "up   $HOST:$MINIO_PORT" ;;
    keycloak) keycloak_running && echo "up   $HOST:$KC_PORT (management $KC_MGMT_PORT)" ;;
  esac
}

check_services() {
  local s
  for s in "$@"; do
    case $s in
      postgres | redis | minio | keycloak) ;;
      *) log "unknown service '$s' (known: ${ALL_SERVICES[*]})"; exit 2 ;;
    esac
  done
}

# Serialise `up`/`down` runs that share a state dir. Every daemon we start gets `9>&-`, so none inherits the lock.
take_lock() {
  if command -v flock >/dev/null; then
    exec 9>"$STATE_DIR/.lock"
    flock 9
  fi
}

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  local services=("$@")
  [[ ${#services[@]} -gt 0 ]] || services=("${ALL_SERVICES[@]}")
  check_services "${services[@]}"
  mkdir -p "$STATE_DIR" "$CACHE_DIR"
  STATE_DIR=$(cd "$STATE_DIR" && pwd)
  CACHE_DIR=$(cd "$CACHE_DIR" && pwd)
  KC_HOME=$CACHE_DIR/keycloak-$KC_VERSION

  case $cmd in
    up)
      take_lock
      local s start=$SECONDS
      if [[ " ${services[*]} " == *" keycloak "* ]]; then CURRENT_SERVICE=keycloak launch_keycloak; fi
      for s in "${services[@]}"; do
        CURRENT_SERVICE=$s
        [[ $s == keycloak ]] || "up_$s"
      done
      if [[ " ${services[*]} " == *" keycloak "* ]]; then CURRENT_SERVICE=keycloak wait_keycloak; fi
      print_env >"$STATE_DIR/env"
      log "all up in $((SECONDS - start))s: ${services[*]} (env: $STATE_DIR/env)"
      ;;
    down)
      take_lock
      local s
      for s in "${services[@]}"; do "down_$s"; done
      ;;
    status)
      local s line rc=0
      for s in "${services[@]}"; do
        if line=$(service_status "$s"); then
          printf '%-9s %s\n' "$s" "$line"
        else
          printf '%-9s down\n' "$s"
          rc=1
        fi
      done
      return $rc
      ;;
    env) print_env ;;
    *) usage ;;
  esac
}

main "$@"
