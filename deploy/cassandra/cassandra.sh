#!/usr/bin/env bash
# cassandra.sh: fetch, start, wait for and stop a single local Apache Cassandra 5.0 node on the
# machine's JDK 17, without Docker. For tests and single-machine trials; production runs its own
# cluster (see deploy/cassandra/README.md and deploy/kubernetes/cassandra-statefulset.yaml).
#
# Usage: cassandra.sh fetch|start|stop|kill|status|wait|acquire OWNER_PID|release OWNER_PID|wipe|env
#
#   fetch     resolve cassandra-all and its runtime jars from Maven Central into the cache (once)
#   start     fetch if needed, start the node in the background if it is not running, wait for CQL
#   ensure    same as start (the name make test uses)
#   stop      graceful stop (SIGTERM: Cassandra drains), SIGKILL after $SEER_CASSANDRA_STOP_TIMEOUT s
#   kill      SIGKILL at once (a crash), for fault tests; leases stay
#   stop-keep-lease  graceful stop that keeps the leases (fault tests); resume starts it again
#   status    exit 0 and print the pid when the node is running and answers on the CQL port
#   acquire P take a lease for process P and start the node; a watchdog releases the lease when P dies
#   release P drop P's lease; stop the node when no live lease is left and no one started it by hand
#   wipe      stop, then delete the node's data (keeps the downloaded jars)
#   env       print the settings as shell assignments
#
# Environment (defaults in brackets):
#   SEER_CACHE_DIR            [<repo>/.cache]   cache root; jars in cassandra/<version>/lib
#   SEER_CASSANDRA_VERSION    [5.0.9]
#   SEER_CASSANDRA_PORT       [9042]            CQL port on 127.0.0.1
#   SEER_CASSANDRA_STORAGE_PORT [7000]          internode port on 127.0.0.1
#   SEER_CASSANDRA_HEAP       [768M]
#   SEER_CASSANDRA_COMMITLOG_SYNC [periodic]    periodic (Cassandra's default: a SIGKILL loses the
#                                               last ~100 ms of acknowledged writes) or group
#                                               (acknowledge once fsynced: none lost; the fault
#                                               tests' private nodes)
#   SEER_CASSANDRA_START_TIMEOUT [180]          seconds to wait for CQL
#   SEER_CASSANDRA_STOP_TIMEOUT  [60]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="${SEER_CASSANDRA_VERSION:-5.0.9}"
cache="${SEER_CACHE_DIR:-$repo/.cache}/cassandra"
lib="$cache/$version/lib"
port="${SEER_CASSANDRA_PORT:-9042}"
storage_port="${SEER_CASSANDRA_STORAGE_PORT:-7000}"
node="$cache/node-$port"
heap="${SEER_CASSANDRA_HEAP:-768M}"
case "${SEER_CASSANDRA_COMMITLOG_SYNC:-periodic}" in
  periodic) commitlog_sync='commitlog_sync: periodic\ncommitlog_sync_period: 10000ms' ;;
  group) commitlog_sync='commitlog_sync: group\ncommitlog_sync_group_window: 15ms' ;;
  *) echo "cassandra.sh: SEER_CASSANDRA_COMMITLOG_SYNC must be periodic or group, got ${SEER_CASSANDRA_COMMITLOG_SYNC}" >&2; exit 2 ;;
esac
start_timeout="${SEER_CASSANDRA_START_TIMEOUT:-180}"
stop_timeout="${SEER_CASSANDRA_STOP_TIMEOUT:-60}"
pidfile="$node/cassandra.pid"
leases="$node/leases"
logdir="$node/logs"

log() { echo "cassandra.sh: $*" >&2; }
die() { log "$*"; exit 1; }

with_lock() { # run "$@" holding the node's lock, so that concurrent callers do not race
  mkdir -p "$node"
  exec 9>"$node/lock"
  flock -w $((start_timeout + stop_timeout + 60)) 9 || die "could not take $node/lock"
  "$@"
  local rc=$?
  flock -u 9
  return $rc
}

fetch() {
  if [[ -f "$lib/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn is not installed (needed once to fetch Cassandra $version from Maven Central)"
  log "fetching cassandra-all $version and its dependencies from Maven Central into $lib"
  mkdir -p "$lib"
  mvn -q -B -f "$here/pom.xml" -Dcassandra.version="$version" -Dmaven.repo.local="$cache/m2" \
    dependency:copy-dependencies -DoutputDirectory="$lib" -DincludeScope=runtime >&2 ||
    die "mvn dependency:copy-dependencies failed"
  [[ -f "$lib/cassandra-all-$version.jar" ]] || die "cassandra-all-$version.jar missing after fetch"
  touch "$lib/.complete"
  rm -rf "$cache/m2" # the jars are in $lib now; Maven's own copy would double the cache
}

pid_alive() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

cql_answers() { # the native port accepts a connection and the log says clients may connect
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || return 1
  grep -q "Starting listening for CQL clients" "$logdir/system.log" 2>/dev/null
}

status() {
  if pid_alive && cql_answers; then cat "$pidfile"; return 0; fi
  return 1
}

keystore() { # a self-signed server certificate for 127.0.0.1, and its PEM for clients
  local ks="$node/tls/keystore.p12"
  if [[ -f "$ks" ]]; then return 0; fi
  mkdir -p "$node/tls"
  keytool -genkeypair -storetype PKCS12 -keystore "$ks" -storepass seer-test -keypass seer-test \
    -alias node -keyalg EC -groupname secp256r1 -validity 3650 \
    -dname "CN=127.0.0.1, O=Seer test" -ext "SAN=ip:127.0.0.1,dns:localhost" >/dev/null 2>&1 ||
    die "keytool failed to create $ks"
  keytool -exportcert -rfc -keystore "$ks" -storepass seer-test -alias node \
    -file "$node/tls/ca.pem" >/dev/null 2>&1 || die "keytool failed to export $node/tls/ca.pem"
}

start_locked() {
  if pid_alive; then
    wait_cql
    return 0
  fi
  fetch
  keystore
  mkdir -p "$node/data" "$logdir" "$node/conf" "$leases"
  sed -e "s|@NODE@|$node|g" -e "s|@NATIVE_PORT@|$port|g" -e "s|@STORAGE_PORT@|$storage_port|g" \
    -e "s|@KEYSTORE@|$node/tls/keystore.p12|g" -e "s|@COMMITLOG_SYNC@|$commitlog_sync|" \
    "$here/conf/cassandra.yaml.in" >"$node/conf/cassandra.yaml"
  cp "$here/conf/logback.xml" "$node/conf/logback.xml"
  local jamm
  jamm="$(ls "$lib"/jamm-*.jar | head -n1)"
  local opts=()
  while IFS= read -r line; do
    line="${line%%#*}"
    line="$(echo "$line" | xargs)"
    [[ -z "$line" ]] && continue
    # "--add-opens a/b=C" is two words for the JVM
    read -r -a words <<<"$line"
    opts+=("${words[@]}")
  done <"$here/conf/jvm17.options"
  : >"$logdir/system.log"
  log "starting Cassandra $version on 127.0.0.1:$port (heap $heap, data in $node)"
  # setsid: the node is not in the caller's process group, so a Ctrl-C of the caller does not
  # kill it half-way; the lease watchdog (acquire) or stop ends it.
  setsid java -Xms"$heap" -Xmx"$heap" "${opts[@]}" -javaagent:"$jamm" \
    -Dcassandra.config="file://$node/conf/cassandra.yaml" \
    -Dlogback.configurationFile="$node/conf/logback.xml" \
    -Dcassandra.logdir="$logdir" -Dcassandra.storagedir="$node/data" \
    -cp "$lib/*" org.apache.cassandra.service.CassandraDaemon \
    </dev/null >"$logdir/stdout.log" 2>&1 9>&- &
  echo $! >"$pidfile"
  wait_cql
}

wait_cql() {
  local t0=$SECONDS
  until cql_answers; do
    if ! pid_alive; then
      tail -n 40 "$logdir/stdout.log" "$logdir/system.log" | cut -c1-400 >&2 || true
      die "Cassandra exited during start-up (logs in $logdir)"
    fi
    if ((SECONDS - t0 > start_timeout)); then
      tail -n 40 "$logdir/system.log" | cut -c1-400 >&2 || true
      die "Cassandra did not answer on 127.0.0.1:$port within ${start_timeout}s (logs in $logdir)"
    fi
    sleep 0.5
  done
  log "Cassandra answers on 127.0.0.1:$port (pid $(cat "$pidfile"), waited $((SECONDS - t0))s)"
}

stop_locked() {
  local sig="${1:-TERM}"
  if ! pid_alive; then rm -f "$pidfile"; return 0; fi
  local pid
  pid="$(cat "$pidfile")"
  log "stopping Cassandra (pid $pid, SIG$sig)"
  kill -"$sig" "$pid" 2>/dev/null || true
  local t0=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS - t0 > stop_timeout)); then
      log "pid $pid still alive after ${stop_timeout}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  rm -f "$pidfile"
}

live_leases() { # prints the owner pids whose lease is still held by a live process
  local f
  for f in "$leases"/*; do
    [[ -e "$f" ]] || continue
    if kill -0 "$(basename "$f")" 2>/dev/null; then basename "$f"; else rm -f "$f"; fi
  done
}

acquire_locked() {
  local owner="$1"
  local was_running=0
  pid_alive && was_running=1
  start_locked
  mkdir -p "$leases"
  # A node someone started by hand (start/ensure) is never stopped by release.
  if ((was_running == 1)) && [[ -z "$(live_leases)" ]] && [[ ! -f "$node/leased" ]]; then
    touch "$node/manual"
  fi
  if ((was_running == 0)); then rm -f "$node/manual"; touch "$node/leased"; fi
  touch "$leases/$owner"
  # Watchdog: when the owner dies without releasing (a test binary killed by -timeout), release.
  (
    exec 9>&- # do not hold the lock
    while kill -0 "$owner" 2>/dev/null && [[ -e "$leases/$owner" ]]; do sleep 2; done
    "$here/cassandra.sh" release "$owner" >/dev/null 2>&1 || true
  ) </dev/null >/dev/null 2>&1 &
  disown
}

release_locked() {
  local owner="$1"
  rm -f "$leases/$owner"
  if [[ -z "$(live_leases)" && ! -f "$node/manual" ]]; then
    stop_locked TERM
    rm -f "$node/leased"
  fi
}

cmd="${1:-}"
case "$cmd" in
  fetch) with_lock fetch ;;
  start | ensure) with_lock start_locked; touch "$node/manual" ;;
  stop) with_lock stop_locked TERM; rm -f "$node/manual" "$node/leased" ;;
  kill) with_lock stop_locked KILL ;;
  stop-keep-lease) with_lock stop_locked TERM ;;
  resume) with_lock start_locked ;;
  status) status ;;
  wait) wait_cql ;;
  acquire) [[ -n "${2:-}" ]] || die "usage: $0 acquire OWNER_PID"; with_lock acquire_locked "$2" ;;
  release) [[ -n "${2:-}" ]] || die "usage: $0 release OWNER_PID"; with_lock release_locked "$2" ;;
  wipe) with_lock stop_locked TERM; rm -rf "$node" ;;
  env)
    echo "SEER_CASSANDRA_VERSION=$version"
    echo "SEER_CASSANDRA_HOSTS=127.0.0.1:$port"
    echo "SEER_CASSANDRA_USERNAME=cassandra"
    echo "SEER_CASSANDRA_PASSWORD=cassandra"
    echo "SEER_CASSANDRA_CA_FILE=$node/tls/ca.pem"
    echo "SEER_CASSANDRA_NODE_DIR=$node"
    echo "SEER_CASSANDRA_LIB_DIR=$lib"
    ;;
  *) sed -n '2,31p' "$0" >&2; exit 2 ;;
esac
