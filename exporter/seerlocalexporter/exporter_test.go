package seerlocalexporter

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/seer-qos/seer/exporter/seerlocalexporter/internal/metadatatest"
	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/pebblestore"
	"github.com/seer-qos/seer/internal/seerstore/seerstoretest"
	"github.com/seer-qos/seer/internal/series"
)

// TestTracesAndMetricsShareTheStore runs a traces and a metrics exporter on one directory (as a
// Collector with both pipelines does), then reads what they stored through the Reader.
func TestTracesAndMetricsShareTheStore(t *testing.T) {
	ctx := context.Background()
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = t.TempDir()
	f := NewFactory()
	texp, err := f.CreateTraces(ctx, exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	mexp, err := f.CreateMetrics(ctx, exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, texp.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, mexp.Start(ctx, componenttest.NewNopHost()))

	g := seerstoretest.Gen{Seed: 1, Start: time.Now().Add(-time.Minute)}
	for i := 0; i < 10; i++ {
		require.NoError(t, texp.ConsumeTraces(ctx, g.Traces(50)))
	}
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "text")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("seer.queue.outstanding_requests")
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(g.Start))
	dp.SetIntValue(3)
	require.NoError(t, mexp.ConsumeMetrics(ctx, md))
	require.NoError(t, texp.Shutdown(ctx))
	require.NoError(t, mexp.Shutdown(ctx))

	// The exporter made the record key beside the store on its first start.
	sealer, created, err := seerstore.EncryptionConfig{KeyFile: cfg.Directory + ".key"}.Sealer(false)
	require.NoError(t, err)
	require.False(t, created)
	st, err := pebblestore.Open(cfg.Directory, sealer)
	require.NoError(t, err)
	defer st.Close()
	var n int
	require.NoError(t, st.ServiceSpans(ctx, "frontend", g.Start.Add(-time.Hour), g.Start.Add(time.Hour), func(*seerstore.Span) error {
		n++
		return nil
	}))
	assert.Equal(t, 500, n)
	var pts []seerstore.SeriesPoint
	require.NoError(t, st.Series(ctx, "text", g.Start, g.Start.Add(time.Second), func(p *seerstore.SeriesPoint) error {
		pts = append(pts, *p)
		return nil
	}))
	assert.Equal(t, []seerstore.SeriesPoint{{Service: "text", Metric: "seer.queue.outstanding_requests", TsNs: g.Start.UnixNano(), Value: 3}}, pts)
}

// TestBadSpansArePermanent checks that a refused span fails the request permanently and is
// counted by reason.
func TestBadSpansArePermanent(t *testing.T) {
	ctx := context.Background()
	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(ctx)) }()
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = t.TempDir()
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	f := NewFactory()
	exp, err := f.CreateTraces(ctx, metadatatest.NewSettings(tt), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, exp.Shutdown(ctx)) }()
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("no ids")
	err = exp.ConsumeTraces(ctx, td)
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "zero_trace_id=1")
	metadatatest.AssertEqualExporterSeerlocalRejectedSpans(t, tt,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: attribute.NewSet(attribute.String("reason", "zero_trace_id"))}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// TestSeriesFromQueueDepthProcessor publishes ticks on the processor's series hub and reads them
// from the store.
func TestSeriesFromQueueDepthProcessor(t *testing.T) {
	ctx := context.Background()
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = t.TempDir()
	cfg.SeriesSource = "queuedepth/localtest"
	f := NewFactory()
	exp, err := f.CreateTraces(ctx, exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
	hub := series.DefaultRegistry.Acquire(cfg.SeriesSource)
	start := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		hub.Publish(series.Batch{Start: start.Add(time.Duration(i) * time.Second), Samples: []series.Sample{{
			Key: series.Key{Service: "text", Instance: "text-0"}, Depth: float64(i), MeanDepth: math.NaN(),
			InstantDepth: math.NaN(), ReportedDepth: math.NaN(), NICDepth: math.NaN(), ListenBacklog: math.NaN(),
			Arrivals: math.NaN(), Completions: math.NaN(),
		}}})
	}
	var got int
	deadline := time.Now().Add(10 * time.Second)
	for got < 10 && time.Now().Before(deadline) {
		got = 0
		stores.Lock()
		s := stores.m[mustAbs(t, cfg.Directory)]
		stores.Unlock()
		require.NotNil(t, s)
		require.NoError(t, s.st.Series(ctx, "text", start, start.Add(time.Minute), func(*seerstore.SeriesPoint) error { got++; return nil }))
		time.Sleep(20 * time.Millisecond)
	}
	series.DefaultRegistry.Release(cfg.SeriesSource)
	require.NoError(t, exp.Shutdown(ctx))
	assert.Equal(t, 10, got)
}

func mustAbs(t *testing.T, dir string) string {
	abs, err := filepath.Abs(dir)
	require.NoError(t, err)
	return abs
}

// TestStoreWithoutItsKey: a store that holds data does not get a new key
// when its own is missing (its spans would be unreadable): the exporter
// refuses to start and says why.
func TestStoreWithoutItsKey(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = filepath.Join(t.TempDir(), "store")
	require.NoError(t, os.MkdirAll(cfg.Directory, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cfg.Directory, "MANIFEST-000001"), []byte("x"), 0o644))
	f := NewFactory()
	exp, err := f.CreateTraces(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.ErrorContains(t, exp.Start(context.Background(), componenttest.NewNopHost()), "holds data: restore its key")
	require.NoError(t, exp.Shutdown(context.Background()))
	_, err = os.Stat(cfg.Directory + ".key")
	require.ErrorIs(t, err, os.ErrNotExist, "a key made for a store that has data")
}
