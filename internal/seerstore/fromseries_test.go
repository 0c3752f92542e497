package seerstore

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/internal/series"
)

func TestFromSeriesBatch(t *testing.T) {
	nan := math.NaN()
	start := time.Unix(100, 0)
	b := series.Batch{Start: start, End: start.Add(time.Second), Samples: []series.Sample{{
		Key: series.Key{Service: "text", Instance: "text-0"}, Depth: 2, MeanDepth: 2, InstantDepth: 1,
		ReportedDepth: nan, NICDepth: nan, ListenBacklog: nan, Arrivals: 10, Completions: 9,
		Latency: series.Latency{Count: 2, Sum: 4 * time.Millisecond, Min: time.Millisecond, Max: 3 * time.Millisecond},
		Network: series.Latency{Count: 4, Sum: 2 * time.Millisecond, Min: 0, Max: time.Millisecond},
		Failed:  1.5,
	}, {
		Key: series.Key{Service: "text", Instance: "text-1"}, Depth: 0, MeanDepth: 0, InstantDepth: 0,
		ReportedDepth: nan, NICDepth: nan, ListenBacklog: nan,
	}}}
	got := FromSeriesBatch(b)
	p := func(m string, v float64) SeriesPoint {
		return SeriesPoint{Service: "text", Instance: "text-0", Metric: m, TsNs: start.UnixNano(), Value: v}
	}
	p1 := func(m string, v float64) SeriesPoint {
		return SeriesPoint{Service: "text", Instance: "text-1", Metric: m, TsNs: start.UnixNano(), Value: v}
	}
	assert.Equal(t, []SeriesPoint{
		p(MetricDepth, 2), p(MetricMeanDepth, 2), p(MetricInstantDepth, 1), p(MetricArrivals, 10), p(MetricCompletions, 9),
		p(MetricLatencyMean, float64(2*time.Millisecond)), p(MetricLatencyMax, float64(3*time.Millisecond)),
		p(MetricNetworkCalls, 4), p(MetricNetworkMean, float64(500*time.Microsecond)), p(MetricNetworkMax, float64(time.Millisecond)),
		p(MetricCallsFailed, 1.5),
		// Nothing completed, called or failed: no latency, network or failed points.
		p1(MetricDepth, 0), p1(MetricMeanDepth, 0), p1(MetricInstantDepth, 0), p1(MetricArrivals, 0), p1(MetricCompletions, 0),
	}, got)
}

func TestFromGraphSnapshot(t *testing.T) {
	w := time.Unix(200, 0)
	g := FromGraphSnapshot(depgraph.Snapshot{Watermark: w, Edges: []depgraph.EdgeInfo{{From: "a", To: "b", Calls: 7}}}, 3)
	assert.Equal(t, GraphSnapshot{TsNs: w.UnixNano(), Version: 3, Edges: []GraphEdge{{Caller: "a", Callee: "b", Calls: 7}}}, g)
}
