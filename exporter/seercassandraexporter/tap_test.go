package seercassandraexporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore/cassandratest"
	"github.com/seer-qos/seer/internal/series"
)

// TestSeriesFromQueueDepthProcessor publishes ticks on the series hub the queuedepth processor
// uses and reads them back from Cassandra.
func TestSeriesFromQueueDepthProcessor(t *testing.T) {
	n := cassandratest.Get(t)
	ctx := context.Background()
	cfg := testConfig(t, n)
	cfg.SeriesSource = "queuedepth/exportertest"
	st := openStore(t, n, cfg)
	f := NewFactory()
	exp, err := f.CreateTraces(ctx, exportertestSettings(f), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, exp.Shutdown(ctx)) }()

	hub := series.DefaultRegistry.Acquire(cfg.SeriesSource) // as the processor does
	defer series.DefaultRegistry.Release(cfg.SeriesSource)
	start := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 60; i++ {
		hub.Publish(series.Batch{Origin: series.OriginSpans, Start: start.Add(time.Duration(i) * time.Second),
			End: start.Add(time.Duration(i+1) * time.Second), Samples: []series.Sample{{
				Key: series.Key{Service: "text", Instance: "text-0"}, Depth: float64(i), MeanDepth: float64(i),
				InstantDepth: float64(i), ReportedDepth: float64(i), NICDepth: 1, ListenBacklog: 0, Arrivals: 3, Completions: 3,
			}}})
	}
	waitFor(t, 30*time.Second, "series stored", func() (bool, string) {
		var got int
		err := st.Series(ctx, "text", start, start.Add(time.Minute), func(p *seerstore.SeriesPoint) error {
			if p.Metric == seerstore.MetricDepth {
				got++
			}
			return nil
		})
		return err == nil && got == 60, fmt.Sprintf("%d depth points, err %v", got, err)
	})
}
