#!/usr/bin/env bash
# run.sh starts otelcol-seer on its embedded default configuration and the
# example Thrift services under load against it, prints the URLs they serve,
# and stops both on Ctrl-C. `make run` builds bin/ and calls it.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-bin}
CONFIG=${SEER_CONFIG:-otelcol-seer/config.yaml}
RATE=${SEER_DEMO_RATE:-100}
LOGDIR=.cache/run
mkdir -p "$LOGDIR"

pids=()
cleanup() {
  trap - EXIT INT TERM
  if [ ${#pids[@]} -gt 0 ]; then kill "${pids[@]}" 2>/dev/null || true; fi
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The embedded store keeps what the demo sends under .cache/run/seer-data.
SEER_DATA_DIR=${SEER_DATA_DIR:-$LOGDIR/seer-data} "$BIN/otelcol-seer" --config "$CONFIG" >"$LOGDIR/otelcol-seer.log" 2>&1 &
collector=$!
pids+=("$collector")

# The health_check extension answers once every pipeline has started.
ready=0
for _ in $(seq 1 300); do
  if ! kill -0 "$collector" 2>/dev/null; then break; fi
  if curl -fsS http://localhost:13133/ >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
if [ "$ready" != 1 ]; then
  echo "otelcol-seer did not become healthy; its log ($LOGDIR/otelcol-seer.log) ends with:" >&2
  tail -n 30 "$LOGDIR/otelcol-seer.log" >&2
  exit 1
fi

# The Social Network demo: 21 Thrift services, a fault every 2 minutes.
"$BIN/seer" demo --collector localhost:6833 --rate "$RATE" --metrics localhost:9464 --admin localhost:9465 >"$LOGDIR/demo.log" 2>&1 &
pids+=("$!")

cat <<EOF
Seer is running (Ctrl-C stops it).
  collector telemetry (received spans):  http://localhost:8888/metrics
      e.g. curl -s localhost:8888/metrics | grep otelcol_receiver_accepted_spans
  queue depth per service (seer_queue_*): http://localhost:9470/metrics
  dependency graph (JSON):               http://localhost:9470/graph
  design hotspots (JSON):                http://localhost:9470/graph/hotspots
  predictor (seer_culprit_probability, seer_qos_violation_probability, seer_model_info):
                                         http://localhost:9471/metrics
  predictions per tick (JSON):           http://localhost:9471/predictions
  Prometheus exporter (OTLP metrics):    http://localhost:8889/metrics
  health:                                http://localhost:13133/
  demo QoS, faults, instrumentation:     http://localhost:9464/metrics
      (seer_demo_qos_violation, seer_demo_fault_active, seer_demo_request_p99_seconds)
  demo faults (GET, POST, DELETE):       http://localhost:9465/faults
  demo violations with their culprits:   http://localhost:9465/violations
  span intake: seerthrift tcp localhost:6833, http http://localhost:6834/api/spans;
               otlp grpc localhost:4317, http http://localhost:4318; jaeger thrift_http localhost:14268
  stored spans, series, graph (Pebble):  $LOGDIR/seer-data
  logs: $LOGDIR/otelcol-seer.log, $LOGDIR/demo.log (faults and violations as they happen)
EOF

# Stop when either process ends, and say which.
set +e
wait -n "${pids[@]}"
status=$?
echo "a Seer process exited (status $status); see $LOGDIR/" >&2
exit "$status"
