package seercassandraexporter

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore/cassandratest"
	"github.com/seer-qos/seer/internal/seerstore/seerstoretest"
)

// TestExportTracesAndSeries sends spans and series through the exporter (sending queue, batching,
// password authentication and TLS on) and reads them back by trace and by service.
func TestExportTracesAndSeries(t *testing.T) {
	n := cassandratest.Get(t)
	if n.CAFile == "" {
		t.Log("the node offers no TLS: testing plain CQL")
	}
	cfg := testConfig(t, n)
	require.NoError(t, cfg.Validate())
	ctx := context.Background()
	f := NewFactory()
	texp, err := f.CreateTraces(ctx, exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, texp.Start(ctx, componenttest.NewNopHost()))
	mexp, err := f.CreateMetrics(ctx, exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, mexp.Start(ctx, componenttest.NewNopHost()))
	st := openStore(t, n, cfg)

	g := seerstoretest.Gen{Seed: 7, Start: time.Now().Add(-10 * time.Minute).Truncate(time.Minute), Step: 20 * time.Millisecond}
	want := map[string]int{}
	for i := 0; i < 20; i++ {
		td := g.Traces(100)
		for id := range idsOf(td) {
			want[id] = 1
		}
		require.NoError(t, texp.ConsumeTraces(ctx, td))
	}
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "text")
	rm.Resource().Attributes().PutStr("service.instance.id", "text-0")
	gauge := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	gauge.SetName("seer.queue.outstanding_requests")
	dps := gauge.SetEmptyGauge().DataPoints()
	for i := 0; i < 600; i++ {
		dp := dps.AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(g.Start.Add(time.Duration(i) * 100 * time.Millisecond)))
		dp.SetIntValue(int64(i % 9))
	}
	require.NoError(t, mexp.ConsumeMetrics(ctx, md))
	// Shutdown drains the queue.
	require.NoError(t, texp.Shutdown(ctx))
	require.NoError(t, mexp.Shutdown(ctx))

	got, err := storedIDs(t, st, cfg.Keyspace)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	byService, err := countRows(t, st, cfg.Keyspace+".spans_by_service")
	require.NoError(t, err)
	assert.Equal(t, int64(len(want)), byService)

	spans, err := st.Trace(ctx, seerstore.TraceID(g.TraceID(3)))
	require.NoError(t, err)
	assert.Len(t, spans, 5)
	var frontend int
	require.NoError(t, st.ServiceSpans(ctx, "frontend", g.Start, g.Start.Add(time.Hour), func(*seerstore.Span) error {
		frontend++
		return nil
	}))
	assert.Equal(t, 2000, frontend)
	var points int
	require.NoError(t, st.Series(ctx, "text", g.Start, g.Start.Add(time.Hour), func(p *seerstore.SeriesPoint) error {
		assert.Equal(t, "seer.queue.outstanding_requests", p.Metric)
		assert.Equal(t, "text-0", p.Instance)
		points++
		return nil
	}))
	assert.Equal(t, 600, points)
}

// TestStartWithoutCassandra checks that the exporter starts while no Cassandra answers and that its
// requests then fail as retryable (the sending queue keeps them).
// TestStartWithoutKey: the exporter does not start without its record key.
func TestStartWithoutKey(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Encryption.KeyFile = filepath.Join(t.TempDir(), "none.key")
	f := NewFactory()
	exp, err := f.CreateTraces(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.ErrorContains(t, exp.Start(context.Background(), componenttest.NewNopHost()), "record key")
	require.NoError(t, exp.Shutdown(context.Background()))
}

func TestStartWithoutCassandra(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Hosts = []string{"127.0.0.1:1"} // nothing listens there
	cfg.TLS.Insecure = true
	cfg.Encryption.KeyFile = newKeyFile(t)
	cfg.ConnectTimeout = 200 * time.Millisecond
	withoutQueue(cfg)
	cfg.RetryConfig.Enabled = false
	ctx := context.Background()
	f := NewFactory()
	exp, err := f.CreateTraces(ctx, exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, exp.Shutdown(ctx)) }()
	g := seerstoretest.Gen{Seed: 1, Start: time.Now()}
	err = exp.ConsumeTraces(ctx, g.Traces(1))
	require.Error(t, err)
	assert.False(t, consumererrorIsPermanent(err), "an unreachable Cassandra is retryable: %v", err)
}
