#!/usr/bin/env bash
# Provision and run Gongshi's real engines without Docker:
#   Kafka (KRaft, jars from Maven Central), Elasticsearch (integ-test-zip from Maven Central),
#   PostgreSQL (Debian package), Redis (Debian package; the API processes' shared rate limits).
#
#   bash infra/provision/services.sh [--instance NAME] up|down|status|restart [kafka|elasticsearch|postgres|redis ...]
#   bash infra/provision/services.sh --instance NAME env|destroy
#   bash infra/provision/services.sh prune
#
# `up` is idempotent: it installs what is missing, starts what is stopped, waits for health.
# `down` stops the engines and keeps their data. See infra/provision/README.md.
#
# Without --instance (or GONGSHI_INSTANCE) these are THE engines on their usual ports. A named
# instance is a second, separate set (for tests that stop, restart or kill engines): free ports
# chosen on its first `up`, its own KRaft cluster id, every file under
# $SERVICES_DIR/instances/NAME (PostgreSQL in a data dir of its own, initdb/pg_ctl); `destroy`
# stops it and deletes that directory. An instance whose first `up` had GONGSHI_INSTANCE_OWNER=PID
# is destroyed by a detached watcher once that process is gone; `prune` does the same for all.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Pinned versions (plain KEY=VALUE); an already-exported variable of the same name wins.
while IFS='=' read -r _k _v; do
  [[ -z "$_k" || "$_k" == \#* ]] && continue
  if [[ -z "${!_k:-}" ]]; then printf -v "$_k" '%s' "$_v"; fi
done < "$HERE/versions.env"
unset _k _v

CACHE_DIR="${GONGSHI_CACHE_DIR:-$HOME/.cache/gongshi}"
SERVICES_DIR="${GONGSHI_SERVICES_DIR:-$HOME/.local/share/gongshi/services}"
HEALTH_TIMEOUT="${GONGSHI_HEALTH_TIMEOUT:-120}"

KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
ES_HOME="$CACHE_DIR/elasticsearch-$ELASTICSEARCH_VERSION"
ES_USER=gongshi-es
PG_BIN="/usr/lib/postgresql/$POSTGRES_MAJOR/bin"
INSTANCE="${GONGSHI_INSTANCE:-}"

# Where an instance's files are and which ports it listens on (set_instance, after the options).
set_instance() {
  if [[ -z "$INSTANCE" ]]; then
    BASE_DIR="$SERVICES_DIR"
    LOCK_FILE="$SERVICES_DIR/.lock"
    KAFKA_PORT=9092 KAFKA_CONTROLLER_PORT=9093
    ES_HTTP_PORT=9200 ES_TRANSPORT_PORT=9300 ES_CLUSTER=gongshi ES_NODE=gongshi-es-1
    PG_PORT=5432
    REDIS_PORT=6379
    PG_MODE=cluster # Debian's cluster $POSTGRES_MAJOR/main (pg_createcluster, pg_ctlcluster)
    PG_CLUSTER=main
    PG_DIR="/var/lib/postgresql/$POSTGRES_MAJOR/$PG_CLUSTER"
    PG_LOG="/var/log/postgresql/postgresql-$POSTGRES_MAJOR-$PG_CLUSTER.log"
  else
    [[ "$INSTANCE" =~ ^[a-z0-9][a-z0-9_-]{0,39}$ ]] \
      || die "instance name '$INSTANCE': use 1-40 of a-z, 0-9, '-', '_'"
    BASE_DIR="$SERVICES_DIR/instances/$INSTANCE"
    LOCK_FILE="$BASE_DIR/.lock"
    ES_CLUSTER="gongshi-$INSTANCE" ES_NODE="gongshi-es-$INSTANCE"
    PG_MODE=datadir # initdb/pg_ctl in a data dir of the instance's own
    PG_DIR="$BASE_DIR/postgres"
    PG_LOG="$PG_DIR/postgresql.log"
    PG_SOCKET_DIR="$PG_DIR/run"
    instance_load
  fi
  KAFKA_HOST=127.0.0.1
  KAFKA_DIR="$BASE_DIR/kafka"
  KAFKA_PID="$KAFKA_DIR/kafka.pid"
  KAFKA_LOG="$KAFKA_DIR/logs/server.log"
  KAFKA_OUT="$KAFKA_DIR/logs/kafka.out"
  ES_DIR="$BASE_DIR/elasticsearch"
  ES_PID="$ES_DIR/run/elasticsearch.pid"
  ES_LOG="$ES_DIR/logs/$ES_CLUSTER.log"
  ES_OUT="$ES_DIR/logs/startup.out"
  ES_URL="http://127.0.0.1:$ES_HTTP_PORT"
  REDIS_DIR="$BASE_DIR/redis"
  REDIS_PID="$REDIS_DIR/redis.pid"
  REDIS_LOG="$REDIS_DIR/logs/redis.log"
  kafka_security_paths
}

ALL_ENGINES=(kafka elasticsearch postgres redis)

say() { printf '[services] %s\n' "$*"; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi
}

# ---------------------------------------------------------------- helpers
java_home() {
  if [[ -n "${GONGSHI_JAVA_HOME:-}" ]]; then echo "$GONGSHI_JAVA_HOME"; return; fi
  local j
  j="$(command -v java)" || die "java not found (Java 17+ is required for Kafka and Elasticsearch)"
  j="$(readlink -f "$j")"
  echo "${j%/bin/java}"
}

mvn_run() { # output goes to $CACHE_DIR/maven.log, shown only on failure
  command -v mvn >/dev/null || die "mvn not found (Maven is needed to fetch engine artifacts from Maven Central)"
  local args=(-q -B -Dstyle.color=never)
  [[ -n "${GONGSHI_MAVEN_REPO:-}" ]] && args+=("-Dmaven.repo.local=$GONGSHI_MAVEN_REPO")
  if ! mvn "${args[@]}" "$@" > "$CACHE_DIR/maven.log" 2>&1; then
    tail -n 30 "$CACHE_DIR/maven.log" | sed 's/\x1b\[[0-9;]*m//g' >&2
    return 1
  fi
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

pid_alive() { # pidfile [cmdline-substring]
  local f=$1 want=${2:-} pid
  [[ -s "$f" ]] || return 1
  pid="$(tr -dc 0-9 < "$f")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ -z "$want" ]] || tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$want"
}

stop_pidfile() { # name pidfile timeout
  local name=$1 f=$2 timeout=$3 pid i
  pid="$({ tr -dc 0-9 < "$f"; } 2>/dev/null || true)"
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then rm -f "$f"; return 0; fi
  say "$name: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 2; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
    sleep 0.5
  done
  say "$name: did not stop in ${timeout}s, killing"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 1
  rm -f "$f"
}

http_get() { # url -> body on stdout, non-zero on failure
  if command -v curl >/dev/null; then
    curl -fsS --max-time 15 "$1"
  else
    python3 - "$1" <<'PY'
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=15).read().decode())
PY
  fi
}

fail_engine() { # engine log [extra-log]
  local engine=$1 log=$2 extra=${3:-}
  printf '[services] ERROR: %s is not healthy (it exited, or was not ready within %ss); log: %s\n' \
    "$engine" "$HEALTH_TIMEOUT" "$log" >&2
  if [[ -f "$log" ]]; then
    printf '[services] --- last 30 lines of %s ---\n' "$log" >&2
    tail -n 30 "$log" >&2 || true
  fi
  if [[ -n "$extra" && -s "$extra" ]]; then
    printf '[services] --- last 30 lines of %s ---\n' "$extra" >&2
    tail -n 30 "$extra" >&2 || true
  fi
  return 1
}

wait_until() { # timeout command... (command: 0 ready, 2 dead, other: not yet)
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout))
  local rc
  while ((SECONDS < deadline)); do
    rc=0; "$@" || rc=$?
    ((rc == 0)) && return 0
    ((rc == 2)) && return 1 # the probe says it died: no point waiting
    sleep 1
  done
  return 1
}

# ---------------------------------------------------------------- kafka
# SASL/SCRAM, the users and the ACLs: kafka/security.sh
# shellcheck source=kafka/security.sh
source "$HERE/kafka/security.sh"

kafka_install() {
  if [[ -f "$KAFKA_HOME/.complete" ]]; then kafka_install_tools; return 0; fi
  say "kafka: fetching Apache Kafka $KAFKA_VERSION jars from Maven Central -> $KAFKA_HOME"
  local tmp="$KAFKA_HOME.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  cp "$HERE/kafka/pom.xml" "$tmp/pom.xml"
  (cd "$tmp" && mvn_run -f pom.xml \
      "-Dkafka.version=$KAFKA_VERSION" "-Dlog4j.version=$LOG4J_VERSION" \
      "org.apache.maven.plugins:maven-dependency-plugin:$MAVEN_DEPENDENCY_PLUGIN_VERSION:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$tmp/libs") \
    || { rm -rf "$tmp"; die "kafka: could not fetch kafka_2.13:$KAFKA_VERSION from Maven Central"; }
  ls "$tmp/libs"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null || { rm -rf "$tmp"; die "kafka: jar missing after download"; }
  touch "$tmp/.complete"
  rm -rf "$KAFKA_HOME"; mv "$tmp" "$KAFKA_HOME"
}

# An install made before the pom listed kafka-tools (AclCommand) lacks its jar: fetch the jars
# again beside it and add the missing ones (never removing a jar a running broker may hold).
kafka_install_tools() {
  [[ -f "$KAFKA_HOME/libs/kafka-tools-$KAFKA_VERSION.jar" ]] && return 0
  say "kafka: fetching kafka-tools $KAFKA_VERSION (AclCommand) from Maven Central"
  local tmp="$KAFKA_HOME.tools.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  cp "$HERE/kafka/pom.xml" "$tmp/pom.xml"
  (cd "$tmp" && mvn_run -f pom.xml \
      "-Dkafka.version=$KAFKA_VERSION" "-Dlog4j.version=$LOG4J_VERSION" \
      "org.apache.maven.plugins:maven-dependency-plugin:$MAVEN_DEPENDENCY_PLUGIN_VERSION:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$tmp/libs") \
    || { rm -rf "$tmp"; die "kafka: could not fetch kafka-tools:$KAFKA_VERSION from Maven Central"; }
  cp -n "$tmp"/libs/*.jar "$KAFKA_HOME/libs/"
  rm -rf "$tmp"
}

kafka_write_config() { # [setup port: the migration start, see kafka/security.sh]
  mkdir -p "$KAFKA_DIR/config" "$KAFKA_DIR/data" "$KAFKA_DIR/logs"
  # it holds the broker's password: readable by the owner only
  (umask 077; cat > "$KAFKA_DIR/config/server.properties" <<EOF
# Generated by infra/provision/services.sh (rewritten on every start)
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
$(kafka_security_properties "${1:-}")
log.dirs=$KAFKA_DIR/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
# the group-offsets topic is created when the first consumer group appears: 4 partitions instead of
# the default 50 keep that first group's wait short on a small, busy machine (one broker)
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.segment.bytes=134217728
EOF
  )
  chmod 600 "$KAFKA_DIR/config/server.properties"
  cat > "$KAFKA_DIR/config/log4j2.properties" <<EOF
# Generated by infra/provision/services.sh
status = warn
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = $KAFKA_LOG
appender.file.filePattern = $KAFKA_DIR/logs/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 5
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
EOF
}

kafka_java_cmd() { # sets KAFKA_CMD=(java ... -cp libs/*)
  local jh; jh="$(java_home)"
  # shellcheck disable=SC2206
  local heap=(${GONGSHI_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m})
  KAFKA_CMD=("$jh/bin/java" "${heap[@]}"
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$KAFKA_DIR/config/log4j2.properties"
    "-Dkafka.logs.dir=$KAFKA_DIR/logs"
    -cp "$KAFKA_HOME/libs/*")
}

kafka_running() { pid_alive "$KAFKA_PID" kafka.Kafka; }

# Healthy: our process is alive, the listener accepts connections, and this process once logged
# "Kafka Server started" (remembered in .started-pid, since the log file may roll over).
kafka_healthy() {
  kafka_running && port_open "$KAFKA_HOST" "$KAFKA_PORT" || return 1
  [[ -f "$KAFKA_DIR/.started-pid" && "$(cat "$KAFKA_DIR/.started-pid")" == "$(cat "$KAFKA_PID")" ]] && return 0
  grep -q 'Kafka Server started' "$KAFKA_LOG" 2>/dev/null || return 1
  cp "$KAFKA_PID" "$KAFKA_DIR/.started-pid"
}

kafka_start() {
  kafka_security_prepare
  if kafka_running; then
    # (kafka_wait grants the ACLs if the marker is missing)
    if [[ -f "$KAFKA_DIR/users" ]]; then say "kafka: already running (pid $(cat "$KAFKA_PID"))"; return 0; fi
    say "kafka: running without SASL (started by an older services.sh): restarting it to migrate"
    kafka_stop
  fi
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    die "kafka: port $KAFKA_PORT is taken by a process this script did not start"
  fi
  kafka_install
  kafka_java_cmd
  if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
    rm -f "$KAFKA_MARKER" "$KAFKA_DIR/users"
    kafka_write_config
    kafka_scram_format_args
    say "kafka: formatting KRaft storage (cluster id $KAFKA_CLUSTER_ID) with users broker, $KAFKA_PLATFORM_USER, $KAFKA_ADMIN_USER"
    "${KAFKA_CMD[@]}" kafka.tools.StorageTool format --ignore-formatted \
      -t "$KAFKA_CLUSTER_ID" -c "$KAFKA_DIR/config/server.properties" "${KAFKA_SCRAM_ARGS[@]}" \
      > "$KAFKA_SECRETS/format.out" 2>&1 || { fail_engine kafka "$KAFKA_SECRETS/format.out"; exit 1; }
    echo formatted > "$KAFKA_DIR/users" # (its output names the users' SCRAM keys: kept in secrets/)
  elif [[ ! -f "$KAFKA_DIR/users" ]]; then
    kafka_migrate
    echo migrated > "$KAFKA_DIR/users"
  fi
  kafka_write_config
  kafka_launch
}

kafka_launch() {
  # mark where this start begins, so health looks at this run's log lines only
  [[ -f "$KAFKA_LOG" ]] && mv -f "$KAFKA_LOG" "$KAFKA_LOG.prev"
  say "kafka: starting $KAFKA_VERSION on $KAFKA_HOST:$KAFKA_PORT (log $KAFKA_LOG)"
  (cd "$KAFKA_DIR" && exec setsid nohup "${KAFKA_CMD[@]}" kafka.Kafka "$KAFKA_DIR/config/server.properties" \
      >> "$KAFKA_OUT" 2>&1 < /dev/null 9>&-) &
  echo $! > "$KAFKA_PID"
}

kafka_probe() {
  kafka_healthy && return 0
  kafka_running || return 2
  return 1
}

kafka_wait() {
  if ! wait_until "$HEALTH_TIMEOUT" kafka_probe; then
    fail_engine kafka "$KAFKA_LOG" "$KAFKA_OUT" || true
    kafka_running || say "kafka: process is not running"
    return 1
  fi
  if ! kafka_security_ready; then
    kafka_grant_platform || { say "kafka: could not grant the ACLs (log $KAFKA_OUT)"; return 1; }
  fi
  say "kafka: healthy on $KAFKA_HOST:$KAFKA_PORT (SASL $KAFKA_MECHANISM, user $KAFKA_PLATFORM_USER)"
}

kafka_stop() { stop_pidfile kafka "$KAFKA_PID" 60; }

kafka_status() {
  if kafka_healthy; then
    say "kafka: running, healthy (pid $(cat "$KAFKA_PID"), $KAFKA_VERSION, $KAFKA_HOST:$KAFKA_PORT, data $KAFKA_DIR/data)"
  elif kafka_running; then
    say "kafka: running, NOT healthy yet (pid $(cat "$KAFKA_PID"), log $KAFKA_LOG)"; return 1
  else
    say "kafka: stopped"; return 1
  fi
}

# ---------------------------------------------------------------- elasticsearch
es_install() {
  if [[ ! -f "$ES_HOME/.complete" ]]; then
    say "elasticsearch: fetching integ-test-zip $ELASTICSEARCH_VERSION from Maven Central -> $ES_HOME"
    local tmp="$ES_HOME.tmp.$$"
    rm -rf "$tmp"; mkdir -p "$tmp"
    (cd "$tmp" && mvn_run \
        "org.apache.maven.plugins:maven-dependency-plugin:$MAVEN_DEPENDENCY_PLUGIN_VERSION:copy" \
        "-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ELASTICSEARCH_VERSION:zip" \
        -DoutputDirectory="$tmp") \
      || { rm -rf "$tmp"; die "elasticsearch: could not fetch integ-test-zip $ELASTICSEARCH_VERSION from Maven Central"; }
    local zip="$tmp/elasticsearch-$ELASTICSEARCH_VERSION.zip"
    if command -v unzip >/dev/null; then
      unzip -q "$zip" -d "$tmp/x"
    else
      python3 - "$zip" "$tmp/x" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        path = z.extract(info, sys.argv[2])
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(path, mode)
PY
    fi
    rm -f "$zip"
    chmod -R a+rX "$tmp/x"
    chmod a+x "$tmp/x/elasticsearch-$ELASTICSEARCH_VERSION"/bin/* 2>/dev/null || true
    rm -rf "$ES_HOME"
    mv "$tmp/x/elasticsearch-$ELASTICSEARCH_VERSION" "$ES_HOME"
    rm -rf "$tmp"
    touch "$ES_HOME/.complete"
  fi
  es_root_module
  es_user
}

# The integ-test-zip lacks the rest-root module, so GET / (client info()) and HEAD / (ping())
# answer 405. Build a tiny replacement module from infra/provision/elasticsearch/root-endpoint.
es_root_module() {
  local src="$HERE/elasticsearch/root-endpoint" mod="$ES_HOME/modules/gongshi-root-endpoint" sum
  sum="$(cat "$src/plugin-descriptor.properties.in" "$src"/src/gongshi/es/*.java | sha256sum | cut -c1-16)"
  [[ -f "$mod/.source-sha" && "$(cat "$mod/.source-sha")" == "$sum" ]] && return 0
  local jh; jh="$(java_home)"
  if [[ ! -x "$jh/bin/javac" || ! -x "$jh/bin/jar" ]]; then
    say "elasticsearch: WARNING no javac/jar in $jh: GET / and HEAD / stay unavailable (info()/ping())"
    return 0
  fi
  say "elasticsearch: building module gongshi-root-endpoint (GET / and HEAD /)"
  local tmp; tmp="$(mktemp -d)"
  "$jh/bin/javac" --release 17 -nowarn -cp "$ES_HOME/lib/*" -d "$tmp/classes" "$src"/src/gongshi/es/*.java \
    || { rm -rf "$tmp"; die "elasticsearch: could not compile $src"; }
  rm -rf "$mod"; mkdir -p "$mod"
  "$jh/bin/jar" cf "$mod/gongshi-root-endpoint.jar" -C "$tmp/classes" .
  sed "s/@ES_VERSION@/$ELASTICSEARCH_VERSION/g" "$src/plugin-descriptor.properties.in" > "$mod/plugin-descriptor.properties"
  echo "$sum" > "$mod/.source-sha"
  chmod -R a+rX "$mod"
  rm -rf "$tmp"
}

es_user() {
  if ! id "$ES_USER" >/dev/null 2>&1; then
    say "elasticsearch: creating system user $ES_USER (Elasticsearch refuses to run as root)"
    as_root useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$ES_USER"
  fi
}

# An engine that runs as its own user (Elasticsearch as $ES_USER, an instance's PostgreSQL as
# postgres): let that user traverse (not list) the parents of its directories.
grant_traverse() { # user path...
  local user=$1 d; shift
  [[ "$user" == "$(id -un)" ]] && return 0
  for d in "$@"; do
    d="$(dirname "$d")"
    while [[ "$d" != / ]]; do
      if ! runuser -u "$user" -- test -x "$d" 2>/dev/null; then
        if command -v setfacl >/dev/null; then
          say "granting $user traverse permission on $d (ACL)"
          as_root setfacl -m "u:$user:x" "$d"
        else
          say "granting others traverse permission (o+x) on $d"
          as_root chmod o+x "$d"
        fi
      fi
      d="$(dirname "$d")"
    done
  done
}

es_write_config() {
  mkdir -p "$ES_DIR/config" "$ES_DIR/data" "$ES_DIR/logs" "$ES_DIR/run" "$ES_DIR/tmp"
  local f
  for f in jvm.options log4j2.properties roles.yml role_mapping.yml users users_roles; do
    [[ -e "$ES_DIR/config/$f" ]] || cp "$ES_HOME/config/$f" "$ES_DIR/config/$f"
  done
  mkdir -p "$ES_DIR/config/jvm.options.d"
  cat > "$ES_DIR/config/elasticsearch.yml" <<EOF
# Generated by infra/provision/services.sh (rewritten on every start)
cluster.name: $ES_CLUSTER
node.name: $ES_NODE
path.data: $ES_DIR/data
path.logs: $ES_DIR/logs
discovery.type: single-node
network.host: 127.0.0.1
http.host: 127.0.0.1
http.port: $ES_HTTP_PORT
transport.host: 127.0.0.1
transport.port: $ES_TRANSPORT_PORT
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
EOF
  # Each start writes its own log; keep the previous one for post-mortems.
  chown -R "$ES_USER:$ES_USER" "$ES_DIR"
  grant_traverse "$ES_USER" "$ES_HOME/bin" "$ES_DIR/data"
}

es_running() { pid_alive "$ES_PID" org.elasticsearch; }

es_healthy() {
  es_running || return 1
  local body
  body="$(http_get "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null)" || return 1
  [[ "$body" == *'"status":"yellow"'* || "$body" == *'"status":"green"'* ]]
}

es_start() {
  if es_running; then say "elasticsearch: already running (pid $(cat "$ES_PID"))"; return 0; fi
  if port_open 127.0.0.1 "$ES_HTTP_PORT"; then
    die "elasticsearch: port $ES_HTTP_PORT is taken by a process this script did not start"
  fi
  es_install
  es_write_config
  local jh; jh="$(java_home)"
  say "elasticsearch: starting $ELASTICSEARCH_VERSION on $ES_URL as $ES_USER (log $ES_LOG)"
  rm -f "$ES_PID"
  [[ -f "$ES_LOG" ]] && mv -f "$ES_LOG" "$ES_LOG.prev"
  # -d: the CLI daemonises the server and exits once it has started (or failed); run it in the
  # background so Kafka and PostgreSQL start meanwhile.
  (cd "$ES_DIR" && exec setsid nohup runuser -u "$ES_USER" -- env \
      "ES_JAVA_HOME=$jh" "ES_PATH_CONF=$ES_DIR/config" "ES_TMPDIR=$ES_DIR/tmp" \
      "ES_JAVA_OPTS=${GONGSHI_ES_JAVA_OPTS:--Xms512m -Xmx512m}" \
      "$ES_HOME/bin/elasticsearch" -d -p "$ES_PID" > "$ES_OUT" 2>&1 < /dev/null 9>&-) &
  ES_CLI_PID=$!
}

# healthy -> 0; dead (launcher gone, no server) -> 2 so the wait stops early; else 1
es_probe() {
  es_healthy && return 0
  if [[ -n "${ES_CLI_PID:-}" ]] && ! kill -0 "$ES_CLI_PID" 2>/dev/null && ! es_running; then return 2; fi
  return 1
}

es_wait() {
  if ! wait_until "$HEALTH_TIMEOUT" es_probe; then
    fail_engine elasticsearch "$ES_LOG" "$ES_OUT" || true
    return 1
  fi
  say "elasticsearch: healthy on $ES_URL"
}

es_stop() { stop_pidfile elasticsearch "$ES_PID" 60; }

es_status() {
  if es_healthy; then
    say "elasticsearch: running, healthy (pid $(cat "$ES_PID"), $ELASTICSEARCH_VERSION, $ES_URL, data $ES_DIR/data)"
  elif es_running; then
    say "elasticsearch: running, NOT healthy yet (pid $(cat "$ES_PID"), log $ES_LOG)"; return 1
  else
    say "elasticsearch: stopped"; return 1
  fi
}

# ---------------------------------------------------------------- postgres
# Two modes: `cluster` (the main engines: Debian's cluster $POSTGRES_MAJOR/main, run by
# pg_ctlcluster) and `datadir` (a named instance: initdb/pg_ctl on a data dir under the
# instance's directory, owned by the postgres user when run as root — PostgreSQL refuses root).
pg_installed() {
  command -v pg_ctlcluster >/dev/null && [[ -x "$PG_BIN/postgres" ]]
}

pg_user() { if [[ $(id -u) -eq 0 ]]; then echo postgres; else id -un; fi; }

pg_as_prefix() { if [[ $(id -u) -eq 0 ]]; then echo "runuser -u postgres --"; fi; }

pg_as() { # run a PostgreSQL program as the owner of an instance's data dir
  # shellcheck disable=SC2046
  (cd / && $(pg_as_prefix) "$@")
}

pg_install() {
  if ! pg_installed; then
    say "postgres: installing postgresql-$POSTGRES_MAJOR from Debian (apt-get)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      "postgresql-$POSTGRES_MAJOR" "postgresql-client-$POSTGRES_MAJOR" >/dev/null
  fi
  if [[ "$PG_MODE" == datadir ]]; then pg_init_datadir; return; fi
  if [[ ! -d "/etc/postgresql/$POSTGRES_MAJOR/$PG_CLUSTER" ]]; then
    say "postgres: creating cluster $POSTGRES_MAJOR/$PG_CLUSTER on port $PG_PORT"
    as_root pg_createcluster --port "$PG_PORT" "$POSTGRES_MAJOR" "$PG_CLUSTER" >/dev/null
  fi
  local port
  port="$(as_root pg_conftool -s "$POSTGRES_MAJOR" "$PG_CLUSTER" show port 2>/dev/null || echo "$PG_PORT")"
  if [[ "$port" != "$PG_PORT" ]]; then
    say "postgres: setting port $PG_PORT (was $port)"
    as_root pg_conftool "$POSTGRES_MAJOR" "$PG_CLUSTER" set port "$PG_PORT"
  fi
}

# datadir mode: $PG_DIR/{data,run,postgresql.log}; the settings that differ from initdb's
# (port, listen address, socket dir) live in data/gongshi.conf, rewritten on every start.
pg_init_datadir() {
  local user; user="$(pg_user)"
  ((${#PG_SOCKET_DIR} < 90)) \
    || die "postgres: $PG_SOCKET_DIR is too long for a Unix socket path (set a shorter GONGSHI_SERVICES_DIR)"
  mkdir -p "$PG_SOCKET_DIR"
  if [[ $(id -u) -eq 0 ]]; then chown "$user:" "$PG_DIR" "$PG_SOCKET_DIR"; fi
  grant_traverse "$user" "$PG_DIR/data"
  [[ -f "$PG_DIR/data/PG_VERSION" ]] && return 0
  say "postgres: initialising $PG_DIR/data (initdb, owner $user)"
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 --locale=C \
      --auth-local=trust --auth-host=scram-sha-256 > "$PG_DIR/initdb.log" 2>&1 \
    || { fail_engine postgres "$PG_DIR/initdb.log" || true; exit 1; }
  printf "\ninclude_if_exists = 'gongshi.conf'\n" | pg_as tee -a "$PG_DIR/data/postgresql.conf" >/dev/null
}

pg_write_datadir_config() {
  pg_as tee "$PG_DIR/data/gongshi.conf" >/dev/null <<EOF
# Generated by infra/provision/services.sh for instance $INSTANCE (rewritten on every start)
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_SOCKET_DIR'
EOF
}

pg_running() {
  if [[ "$PG_MODE" == datadir ]]; then
    [[ -f "$PG_DIR/data/PG_VERSION" ]] && pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1
    return
  fi
  pg_installed && [[ -d "/etc/postgresql/$POSTGRES_MAJOR/$PG_CLUSTER" ]] \
    && as_root pg_ctlcluster "$POSTGRES_MAJOR" "$PG_CLUSTER" status >/dev/null 2>&1
}

pg_login() {
  PGPASSWORD=gongshi PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -p "$PG_PORT" -U gongshi -d gongshi \
    -tAqc 'select 1' >/dev/null 2>&1
}

pg_healthy() {
  pg_running && pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && pg_login
}

pg_psql() {
  if [[ "$PG_MODE" == datadir ]]; then
    pg_as psql -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAq "$@"
  else
    (cd / && as_root runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -tAq "$@")
  fi
}

pg_ensure_role_db() {
  if [[ "$(pg_psql -c "select 1 from pg_roles where rolname='gongshi'")" != 1 ]]; then
    say "postgres: creating role gongshi"
    pg_psql -c "create role gongshi with login createdb password 'gongshi'"
  fi
  if [[ "$(pg_psql -c "select 1 from pg_database where datname='gongshi'")" != 1 ]]; then
    say "postgres: creating database gongshi"
    pg_psql -c "create database gongshi owner gongshi"
  fi
  if ! pg_login; then
    say "postgres: resetting password of role gongshi"
    pg_psql -c "alter role gongshi with login createdb password 'gongshi'"
  fi
}

pg_where() {
  if [[ "$PG_MODE" == datadir ]]; then echo "$PG_DIR/data"; else echo "$POSTGRES_MAJOR/$PG_CLUSTER"; fi
}

pg_start() {
  pg_install
  if pg_running; then
    say "postgres: already running ($(pg_where))"
  elif [[ "$PG_MODE" == datadir ]]; then
    if port_open 127.0.0.1 "$PG_PORT"; then
      die "postgres: port $PG_PORT is taken by a process this script did not start"
    fi
    pg_write_datadir_config
    say "postgres: starting $(pg_where) on 127.0.0.1:$PG_PORT (log $PG_LOG)"
    # -W: pg_wait does the waiting; setsid: a Ctrl-C to the caller does not reach the server
    # shellcheck disable=SC2046
    (cd / && setsid $(pg_as_prefix) "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_LOG" -W start > /dev/null 9>&-) \
      || { fail_engine postgres "$PG_LOG" || true; exit 1; }
  else
    say "postgres: starting $(pg_where) on 127.0.0.1:$PG_PORT (log $PG_LOG)"
    as_root pg_ctlcluster "$POSTGRES_MAJOR" "$PG_CLUSTER" start 9>&- \
      || { fail_engine postgres "$PG_LOG" || true; exit 1; }
  fi
}

# ready -> 0; an instance's server gone -> 2 (stop waiting); else 1
pg_probe() {
  pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && return 0
  if [[ "$PG_MODE" == datadir ]] && ! pg_running; then return 2; fi
  return 1
}

pg_wait() {
  if ! wait_until "$HEALTH_TIMEOUT" pg_probe; then
    fail_engine postgres "$PG_LOG" || true
    return 1
  fi
  pg_ensure_role_db
  if ! wait_until 10 pg_login; then
    fail_engine postgres "$PG_LOG" || true
    return 1
  fi
  say "postgres: healthy on 127.0.0.1:$PG_PORT (db gongshi, user gongshi)"
}

pg_stop() { # [fast | immediate]
  local mode=${1:-fast}
  pg_running || return 0
  say "postgres: stopping $(pg_where)"
  if [[ "$PG_MODE" == datadir ]]; then
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" stop -m "$mode" -w -t 60 >/dev/null
  else
    as_root pg_ctlcluster "$POSTGRES_MAJOR" "$PG_CLUSTER" stop -m "$mode"
  fi
}

pg_status() {
  if pg_healthy; then
    say "postgres: running, healthy ($(psql --version | awk '{print $3}'), 127.0.0.1:$PG_PORT, data $PG_DIR)"
  elif pg_running; then
    say "postgres: running, NOT healthy (log $PG_LOG)"; return 1
  else
    say "postgres: stopped"; return 1
  fi
}

# ---------------------------------------------------------------- redis
# Debian's redis-server, run by this script (not Debian's service) with a config of its own:
# loopback only, no persistence (it holds rate-limit counters that expire within the hour).
redis_install() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    say "redis: installing redis-server from Debian (apt-get)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      redis-server redis-tools >/dev/null
    # Debian starts its own service where systemd runs; this script runs its own instead
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
      as_root systemctl disable --now redis-server >/dev/null 2>&1 || true
    fi
  fi
}

redis_write_config() {
  mkdir -p "$REDIS_DIR/data" "$REDIS_DIR/logs"
  cat > "$REDIS_DIR/redis.conf" <<EOF
# Generated by infra/provision/services.sh (rewritten on every start)
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize no
logfile $REDIS_LOG
dir $REDIS_DIR/data
save ""
appendonly no
maxmemory 128mb
maxmemory-policy volatile-ttl
EOF
}

redis_running() { pid_alive "$REDIS_PID" redis-server; }

redis_healthy() {
  redis_running && [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

redis_start() {
  [[ -n "$REDIS_PORT" ]] || die "redis: instance $INSTANCE predates redis (no REDIS_PORT): destroy it and run up again"
  redis_install
  if redis_running; then say "redis: already running (pid $(cat "$REDIS_PID"))"; return 0; fi
  if port_open 127.0.0.1 "$REDIS_PORT"; then
    die "redis: port $REDIS_PORT is taken by a process this script did not start"
  fi
  redis_write_config
  say "redis: starting $(redis-server --version | awk '{print $3}') on 127.0.0.1:$REDIS_PORT (log $REDIS_LOG)"
  (cd "$REDIS_DIR" && exec setsid nohup redis-server "$REDIS_DIR/redis.conf" \
      >> "$REDIS_DIR/logs/redis.out" 2>&1 < /dev/null 8>&- 9>&-) &
  echo $! > "$REDIS_PID"
}

# healthy -> 0; not running (it exited) -> 2; else 1
redis_probe() {
  redis_healthy && return 0
  redis_running || return 2
  return 1
}

redis_wait() {
  if ! wait_until "$HEALTH_TIMEOUT" redis_probe; then
    fail_engine redis "$REDIS_LOG" "$REDIS_DIR/logs/redis.out" || true
    return 1
  fi
  say "redis: healthy on 127.0.0.1:$REDIS_PORT"
}

redis_stop() { stop_pidfile redis "$REDIS_PID" 10; }

redis_status() {
  if redis_healthy; then
    say "redis: running, healthy (pid $(cat "$REDIS_PID"), 127.0.0.1:$REDIS_PORT, config $REDIS_DIR/redis.conf)"
  elif redis_running; then
    say "redis: running, NOT healthy (log $REDIS_LOG)"; return 1
  else
    say "redis: stopped"; return 1
  fi
}

# ---------------------------------------------------------------- named instances
# $BASE_DIR/instance.env (KEY=VALUE) holds a named instance's ports, KRaft cluster id and owner;
# written by its first `up`, read by every later command.
instance_load() {
  INSTANCE_ENV="$BASE_DIR/instance.env"
  KAFKA_PORT='' KAFKA_CONTROLLER_PORT='' PG_PORT='' ES_HTTP_PORT='' ES_TRANSPORT_PORT='' OWNER=''
  REDIS_PORT=''
  [[ -f "$INSTANCE_ENV" ]] || return 0
  local k v
  while IFS='=' read -r k v; do
    case "$k" in
      KAFKA_PORT | KAFKA_CONTROLLER_PORT | PG_PORT | ES_HTTP_PORT | ES_TRANSPORT_PORT | REDIS_PORT | KAFKA_CLUSTER_ID | OWNER)
        printf -v "$k" '%s' "$v" ;;
    esac
  done < "$INSTANCE_ENV"
}

instance_exists() { [[ -z "$INSTANCE" || -f "$INSTANCE_ENV" ]]; }

# Free ports below the ephemeral range (a client's outgoing connection never takes one while its
# engine restarts) and not recorded by another instance; a fresh KRaft cluster id.
instance_create() {
  local values
  values="$(python3 - "$SERVICES_DIR/instances" <<'PY'
import base64, glob, os, random, socket, sys, uuid
taken = set()
for path in glob.glob(os.path.join(sys.argv[1], "*", "instance.env")):
    for line in open(path):
        key, _, value = line.strip().partition("=")
        if key.endswith("_PORT") and value.isdigit():
            taken.add(int(value))
with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
    low = int(f.read().split()[0])
candidates = [p for p in range(max(1024, low - 12000), low) if p not in taken]
random.shuffle(candidates)
ports = []
for port in candidates:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    ports.append(port)
    if len(ports) == 6:
        break
cluster_id = "-"
while cluster_id.startswith("-"):  # Kafka's own rule: the id is passed on a command line
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
print(*ports, cluster_id)
PY
)" || die "could not choose ports for instance $INSTANCE"
  local p=($values)
  ((${#p[@]} == 7)) || die "could not find six free ports for instance $INSTANCE"
  KAFKA_PORT=${GONGSHI_KAFKA_PORT:-${p[0]}}
  KAFKA_CONTROLLER_PORT=${GONGSHI_KAFKA_CONTROLLER_PORT:-${p[1]}}
  PG_PORT=${GONGSHI_POSTGRES_PORT:-${p[2]}}
  ES_HTTP_PORT=${GONGSHI_ES_HTTP_PORT:-${p[3]}}
  ES_TRANSPORT_PORT=${GONGSHI_ES_TRANSPORT_PORT:-${p[4]}}
  REDIS_PORT=${GONGSHI_REDIS_PORT:-${p[5]}}
  KAFKA_CLUSTER_ID=${p[6]}
  OWNER=''
  if [[ -n "${GONGSHI_INSTANCE_OWNER:-}" ]]; then
    OWNER="${GONGSHI_INSTANCE_OWNER}:$(proc_start_time "$GONGSHI_INSTANCE_OWNER")"
  fi
  cat > "$INSTANCE_ENV.tmp" <<EOF
# instance $INSTANCE of infra/provision/services.sh (created $(date -u +%FT%TZ))
KAFKA_PORT=$KAFKA_PORT
KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT
PG_PORT=$PG_PORT
ES_HTTP_PORT=$ES_HTTP_PORT
ES_TRANSPORT_PORT=$ES_TRANSPORT_PORT
REDIS_PORT=$REDIS_PORT
KAFKA_CLUSTER_ID=$KAFKA_CLUSTER_ID
OWNER=$OWNER
EOF
  mv "$INSTANCE_ENV.tmp" "$INSTANCE_ENV"
  ES_URL="http://127.0.0.1:$ES_HTTP_PORT"
  say "instance $INSTANCE: kafka $KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT), postgres $PG_PORT, elasticsearch $ES_HTTP_PORT, redis $REDIS_PORT, in $BASE_DIR"
}

proc_start_time() { # pid -> its start time in clock ticks since boot (empty if gone)
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  stat="${stat##*) }"
  awk '{print $20}' <<< "$stat"
}

owner_alive() { # pid:starttime
  local pid=${1%%:*} start=${1#*:}
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && [[ "$(proc_start_time "$pid")" == "$start" ]]
}

cmd_env() {
  instance_exists || die "instance $INSTANCE does not exist (run: $0 --instance $INSTANCE up)"
  echo "GONGSHI_KAFKA_BOOTSTRAP=$KAFKA_HOST:$KAFKA_PORT"
  echo "GONGSHI_KAFKA_SASL_MECHANISM=$KAFKA_MECHANISM"
  echo "GONGSHI_KAFKA_USERNAME=$KAFKA_PLATFORM_USER"
  echo "GONGSHI_KAFKA_PASSWORD=$KAFKA_PLATFORM_PASSWORD"
  echo "GONGSHI_KAFKA_ADMIN_USERNAME=$KAFKA_ADMIN_USER"
  echo "GONGSHI_KAFKA_ADMIN_PASSWORD=$KAFKA_ADMIN_PASSWORD"
  echo "GONGSHI_POSTGRES_DSN=postgresql://gongshi:gongshi@127.0.0.1:$PG_PORT/gongshi"
  echo "GONGSHI_ELASTICSEARCH_URL=$ES_URL"
  echo "GONGSHI_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

# Stop every engine of a named instance at once (its data is about to go) and delete its directory.
cmd_destroy() {
  [[ -n "$INSTANCE" && "$BASE_DIR" == "$SERVICES_DIR/instances/$INSTANCE" ]] \
    || die "destroy is for named instances only (--instance NAME)"
  [[ -d "$BASE_DIR" ]] || { say "instance $INSTANCE: nothing to destroy"; return 0; }
  stop_pidfile kafka "$KAFKA_PID" 10
  stop_pidfile elasticsearch "$ES_PID" 20
  stop_pidfile redis "$REDIS_PID" 5
  pg_stop immediate || true
  rm -rf "$BASE_DIR"
  say "instance $INSTANCE: destroyed"
}

# Started (detached) by the first `up` of an instance that has an owner: destroys the instance
# as soon as the owner is gone, even if it was killed before it could clean up; exits once the
# instance has been destroyed by anyone.
cmd_watch() {
  while [[ -f "$INSTANCE_ENV" ]]; do
    if ! owner_alive "$OWNER"; then
      say "instance $INSTANCE: its owner (pid ${OWNER%%:*}) is gone"
      bash "$HERE/services.sh" --instance "$INSTANCE" destroy
      return
    fi
    sleep 2
  done
}

start_watch() {
  [[ -n "$OWNER" ]] || return 0
  (exec setsid nohup bash "$HERE/services.sh" --instance "$INSTANCE" watch \
      >> "$BASE_DIR/watch.log" 2>&1 < /dev/null 8>&- 9>&-) &
}

# Destroy the named instances whose owner process is gone (a test run killed before its cleanup).
cmd_prune() {
  local env name owner
  for env in "$SERVICES_DIR"/instances/*/instance.env; do
    [[ -f "$env" ]] || continue
    name="$(basename "$(dirname "$env")")"
    owner="$(sed -n 's/^OWNER=//p' "$env")"
    if [[ -n "$owner" ]] && ! owner_alive "$owner"; then
      say "instance $name: its owner (pid ${owner%%:*}) is gone"
      GONGSHI_INSTANCE='' bash "$HERE/services.sh" --instance "$name" destroy
    fi
  done
}

# ---------------------------------------------------------------- commands
engine_fn() { # engine verb
  case "$1" in
    kafka) echo "kafka_$2" ;;
    elasticsearch | es) echo "es_$2" ;;
    postgres | postgresql | pg) echo "pg_$2" ;;
    redis) echo "redis_$2" ;;
    *) die "unknown engine '$1' (kafka, elasticsearch, postgres, redis)" ;;
  esac
}

cmd_up() {
  local e failed=()
  if ! instance_exists; then instance_create; start_watch; fi
  # Install first (downloads; one at a time on this machine), then start everything, then
  # wait: the engines boot in parallel.
  exec 8> "$CACHE_DIR/.install.lock"
  flock -w 900 8 || die "another services.sh is still installing (lock $CACHE_DIR/.install.lock)"
  for e in "$@"; do
    case "$e" in
      kafka) kafka_running || kafka_install ;;
      elasticsearch | es) es_running || es_install ;;
    esac
  done
  exec 8>&-
  for e in "$@"; do "$(engine_fn "$e" start)"; done
  for e in "$@"; do "$(engine_fn "$e" wait)" || failed+=("$e"); done
  if ((${#failed[@]})); then die "not healthy: ${failed[*]}"; fi
  say "up: ${*} healthy${INSTANCE:+ (instance $INSTANCE)}"
}

cmd_down() {
  local e
  instance_exists || { say "instance $INSTANCE: not created"; return 0; }
  for e in "$@"; do "$(engine_fn "$e" stop)"; done
  local kept="$BASE_DIR"
  [[ -n "$INSTANCE" ]] || kept+=" and /var/lib/postgresql"
  say "down: ${*} stopped (data kept in $kept)"
}

cmd_status() {
  local e rc=0
  instance_exists || { say "instance $INSTANCE: not created"; return 1; }
  for e in "$@"; do "$(engine_fn "$e" status)" || rc=1; done
  return $rc
}

usage() {
  cat >&2 <<EOF
usage: $0 [--instance NAME] up|down|restart|status [kafka|elasticsearch|postgres|redis ...]
       $0 --instance NAME env|destroy
       $0 prune
EOF
  exit 2
}

main() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --instance) [[ $# -ge 2 ]] || usage; INSTANCE=$2; shift 2 ;;
      --instance=*) INSTANCE=${1#--instance=}; shift ;;
      -h | --help) usage ;;
      *) break ;;
    esac
  done
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  local engines=("$@")
  ((${#engines[@]})) || engines=("${ALL_ENGINES[@]}")
  local e
  for e in "${engines[@]}"; do engine_fn "$e" x >/dev/null; done
  set_instance

  case "$cmd" in
    up | down | restart) ;;
    status) cmd_status "${engines[@]}"; return ;;
    env) cmd_env; return ;;
    prune) cmd_prune; return ;;
    watch) [[ -n "$INSTANCE" ]] || usage; cmd_watch; return ;;
    destroy) [[ -n "$INSTANCE" ]] || usage ;;
    *) usage ;;
  esac

  if [[ -n "$INSTANCE" && "$cmd" != up && ! -d "$BASE_DIR" ]]; then
    say "instance $INSTANCE: not created"; return 0
  fi
  mkdir -p "$CACHE_DIR" "$SERVICES_DIR" "$BASE_DIR"
  # One provisioning run at a time per instance (engines are started with fd 9 closed,
  # so they never hold this lock).
  exec 9> "$LOCK_FILE"
  if ! flock -n 9; then
    say "waiting for another services.sh run to finish (lock $LOCK_FILE)"
    flock -w 900 9 || die "another services.sh is still running (lock $LOCK_FILE)"
  fi
  set_instance # another run may have created the instance meanwhile

  case "$cmd" in
    up) cmd_up "${engines[@]}" ;;
    down) cmd_down "${engines[@]}" ;;
    restart) cmd_down "${engines[@]}"; cmd_up "${engines[@]}" ;;
    destroy) cmd_destroy ;;
  esac
}

main "$@"
