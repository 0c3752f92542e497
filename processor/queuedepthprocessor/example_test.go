package queuedepthprocessor

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seer-qos/seer/examples/threeservices"
	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/receiver/seerthriftreceiver"
)

// TestLiveThreeServiceExample runs the example application (frontend calls
// users and storage in parallel, users calls storage) over Thrift into the
// real seerthrift receiver and through queuedepth, and checks the graph and
// the series it learns.
func TestLiveThreeServiceExample(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three Thrift services")
	}
	h := newHarness(t, "example", nil)

	f := seerthriftreceiver.NewFactory()
	rcfg := f.CreateDefaultConfig().(*seerthriftreceiver.Config)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	endpoint := ln.Addr().String()
	require.NoError(t, ln.Close())
	rcfg.Protocols.TCP.GetOrInsertDefault().Endpoint = endpoint
	rcv, err := f.CreateTraces(context.Background(), receivertest.NewNopSettings(f.Type()), rcfg, h.proc)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, rcv.Shutdown(context.Background())) }()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	app, err := threeservices.Start(ctx, threeservices.Config{CollectorEndpoint: endpoint})
	require.NoError(t, err)
	const requests = 200
	stats, err := app.RunClosedLoop(ctx, requests, 4)
	require.NoError(t, err)
	// Flush returns once the receiver acknowledged every batch.
	require.NoError(t, app.Flush(ctx))
	require.NoError(t, app.Shutdown(ctx))
	t.Logf("load: %+v", stats)
	require.Equal(t, 7*requests, h.next.SpanCount(), "seven spans per request passed through")

	h.sh.graph.Flush()
	snap := h.sh.graph.Snapshot()
	var edges []string
	for _, e := range snap.Edges {
		edges = append(edges, e.From+">"+e.To)
		assert.Equal(t, uint64(requests), e.Calls, e.From+">"+e.To)
		assert.Zero(t, e.Errors)
	}
	assert.Equal(t, []string{"frontend>storage", "frontend>users", "users>storage"}, edges)
	report := h.sh.graph.Hotspots()
	assert.Empty(t, report.Cycles)
	require.NotNil(t, report.HighestFanOut)
	assert.Equal(t, "frontend", report.HighestFanOut.Service)
	assert.InDelta(t, 2, report.HighestFanOut.Mean, 1e-12)
	assert.Equal(t, []string{"storage", "users"}, report.HighestFanOut.Callees)
	t.Logf("critical paths: %+v; blocking: %+v", snap.CriticalPaths, report.Blocking)

	// Every service has a series with the software queue it reported.
	batches := h.stop()
	reported := map[string]bool{}
	arrivals := map[string]float64{}
	for _, b := range batches {
		for _, s := range b.Samples {
			arrivals[s.Service] += s.Arrivals
			if s.Sources&series.SourceReported != 0 {
				reported[s.Service] = true
			}
		}
	}
	assert.Equal(t, map[string]float64{"frontend": requests, "users": requests, "storage": 2 * requests}, arrivals)
	assert.Equal(t, map[string]bool{"frontend": true, "users": true, "storage": true}, reported)
}
