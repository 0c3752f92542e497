#!/bin/sh
# bench_ab.sh runs the plain, header and traced variants of one RPC benchmark
# alternately, ROUNDS times, and prints the median ns/op and cpu-ns/op of
# each. Alternating runs keeps a shared machine's changing load from landing
# on one variant only.
#
#   ./bench_ab.sh 'RPC/inmemory' 50000x 9
#   ./bench_ab.sh 'RPCParallel/loopback' 20000x 9
set -eu
bench=${1:-RPC/inmemory}
benchtime=${2:-50000x}
rounds=${3:-9}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$(dirname "$0")"
go test -c -o "$dir/tt.test" . >/dev/null
variants=${VARIANTS:-plain header traced}
for _ in $(seq "$rounds"); do
	for v in $variants; do
		"$dir/tt.test" -test.run '^$' -test.bench "^Benchmark${bench%%/*}\$/${bench#*/}/^$v\$" \
			-test.benchtime "$benchtime" -test.benchmem 2>/dev/null | grep '^Benchmark' >>"$dir/$v.txt"
	done
done
for v in $variants; do
	# Median of each column, with sort(1) so that any awk will do.
	med() { awk -v u="$1" '{ for (i = 2; i <= NF; i++) if ($i == u) print $(i-1) }' "$dir/$v.txt" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR+1)/2)] }'; }
	printf '%-7s median %9s ns/op %9s cpu-ns/op %6s B/op %5s allocs/op (%s runs)\n' "$v" \
		"$(med ns/op)" "$(med cpu-ns/op)" "$(med B/op)" "$(med allocs/op)" "$(wc -l <"$dir/$v.txt")"
done
