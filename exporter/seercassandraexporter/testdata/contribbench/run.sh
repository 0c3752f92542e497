#!/usr/bin/env bash
# run.sh: the storage benchmark of the Cassandra notes, in one run on one local node:
#   1. seercassandra: BenchmarkExportSpans (spans/s with no loss) and BenchmarkReadServiceHour;
#   2. the contrib cassandraexporter's write path (main.go here), built in a throwaway module
#      outside the repository, on the same node with the same spans.
# Usage: exporter/seercassandraexporter/testdata/contribbench/run.sh [spans] [rounds]
#        (defaults 200000 spans, 3 rounds; the two alternate so that load from elsewhere hits both)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
spans="${1:-200000}"
rounds="${2:-3}"
script="$repo/deploy/cassandra/cassandra.sh"

"$script" acquire $$
trap '"$script" release $$' EXIT

work="$(mktemp -d)"
trap '"$script" release $$; rm -rf "$work"' EXIT
cp "$here/main.go" "$work/"
(
  cd "$work"
  go mod init seer.local/contribbench >/dev/null 2>&1
  # The collector versions of the seer module; the old driver the contrib exporter uses.
  go get github.com/gocql/gocql@v1.7.0 \
    go.opentelemetry.io/collector/exporter/exporterhelper@v0.165.0 \
    go.opentelemetry.io/collector/exporter/exportertest@v0.165.0 \
    go.opentelemetry.io/collector/component/componenttest@v0.165.0 >/dev/null 2>&1
  go mod tidy >/dev/null 2>&1
  go build -o contribbench .
)

for round in $(seq 1 "$rounds"); do
  echo "== round $round: seercassandra ($spans spans) =="
  (cd "$repo" && SEER_BENCH_SPANS="$spans" go test -count=1 -run '^$' -bench . -benchtime 1x \
    ./exporter/seercassandraexporter/ 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)' | grep -v -- '--- BENCH')
  echo "== round $round: contrib cassandraexporter write path ($spans spans) =="
  "$work/contribbench" -spans "$spans" 2>&1 | grep -v 'insert span error' || true
  echo "   (load: $(cut -d' ' -f1-3 /proc/loadavg))"
done
