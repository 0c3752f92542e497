package seercassandraexporter

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore/cassandratest"
	"github.com/seer-qos/seer/internal/seerstore/seerstoretest"
)

// benchSpans is the number of spans one export benchmark iteration writes (SEER_BENCH_SPANS).
func benchSpans() int {
	if n, err := strconv.Atoi(os.Getenv("SEER_BENCH_SPANS")); err == nil && n > 0 {
		return n
	}
	return 200_000
}

// benchRequests builds the requests of an iteration: 100 traces of 5 spans each per request, the
// size a batch processor would send.
func benchRequests(seed uint64, spans int) []ptrace.Traces {
	g := seerstoretest.Gen{Seed: seed, Start: time.Now().Add(-time.Hour), Step: 50 * time.Microsecond}
	var reqs []ptrace.Traces
	for n := 0; n < spans; n += 500 {
		reqs = append(reqs, g.Traces(100))
	}
	return reqs
}

// BenchmarkExportSpans measures how fast the exporter, with its default queue, batching and
// concurrency, writes spans to the local node, and checks that none is lost: each iteration sends
// benchSpans spans, shuts the exporter down (which drains the queue) and counts the rows.
// It reports spans/s; plain CQL with password authentication, as the contrib comparison runs.
func BenchmarkExportSpans(b *testing.B) {
	n := cassandratest.Get(b)
	ctx := context.Background()
	total := benchSpans()
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cfg := testConfig(b, n)
		cfg.TLS.Insecure = true
		cfg.QueueConfig.Get().BlockOnOverflow = true
		if c, err := strconv.Atoi(os.Getenv("SEER_BENCH_CONCURRENCY")); err == nil && c > 0 {
			cfg.MaxConcurrentRequests = c
		}
		if c, err := strconv.Atoi(os.Getenv("SEER_BENCH_CONNS")); err == nil && c > 0 {
			cfg.NumConns = c
		}
		if c, err := strconv.Atoi(os.Getenv("SEER_BENCH_CONSUMERS")); err == nil && c > 0 {
			cfg.QueueConfig.Get().NumConsumers = c
		}
		st := openStore(b, n, cfg)
		reqs := benchRequests(uint64(100+i), total)
		f := NewFactory()
		exp, err := f.CreateTraces(ctx, exportertestSettings(f), cfg)
		require.NoError(b, err)
		require.NoError(b, exp.Start(ctx, componenttest.NewNopHost()))
		b.StartTimer()
		t0 := time.Now()
		for _, td := range reqs {
			require.NoError(b, exp.ConsumeTraces(ctx, td))
		}
		require.NoError(b, exp.Shutdown(ctx))
		elapsed += time.Since(t0)
		b.StopTimer()
		rows, err := countRows(b, st, cfg.Keyspace+".spans_by_trace")
		require.NoError(b, err)
		require.Equal(b, int64(total), rows, "spans lost")
	}
	b.ReportMetric(float64(total*b.N)/elapsed.Seconds(), "spans/s")
}

// BenchmarkReadServiceHour measures reading one hour of one service: its queue-depth series
// (5 instances x 2 metrics at 10 Hz: 360,000 points) and its spans (40,000 spans).
func BenchmarkReadServiceHour(b *testing.B) {
	n := cassandratest.Get(b)
	ctx := context.Background()
	cfg := testConfig(b, n)
	st := openStore(b, n, cfg)
	hour := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

	var pts []seerstore.SeriesPoint
	for tick := hour; tick.Before(hour.Add(time.Hour)); tick = tick.Add(100 * time.Millisecond) {
		for inst := 0; inst < 5; inst++ {
			for _, m := range []string{"seer.queue.outstanding_requests", "seer.queue.nic_depth"} {
				pts = append(pts, seerstore.SeriesPoint{Service: "text", Instance: "text-" + strconv.Itoa(inst), Metric: m,
					TsNs: tick.UnixNano(), Value: float64(tick.UnixNano() % 17)})
			}
		}
	}
	for i := 0; i < len(pts); i += 20000 {
		require.NoError(b, st.WriteSeries(ctx, pts[i:min(i+20000, len(pts))]))
	}
	g := seerstoretest.Gen{Seed: 5, Start: hour, Step: 90 * time.Millisecond} // 40,000 traces in the hour
	for i := 0; i < 40; i++ {
		v := seerstore.FromTraces(g.Traces(1000), seerstore.DefaultLimits(), hour.Add(2*time.Hour))
		require.NoError(b, st.WriteSpans(ctx, v.Spans))
	}

	b.Run("series", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			got := 0
			require.NoError(b, st.Series(ctx, "text", hour, hour.Add(time.Hour), func(*seerstore.SeriesPoint) error { got++; return nil }))
			require.Equal(b, len(pts), got)
		}
		b.ReportMetric(float64(len(pts)), "points/op")
	})
	b.Run("spans", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			got := 0
			require.NoError(b, st.ServiceSpans(ctx, "frontend", hour, hour.Add(time.Hour), func(*seerstore.Span) error { got++; return nil }))
			require.Equal(b, 40000, got)
		}
		b.ReportMetric(40000, "spans/op")
	})
}
