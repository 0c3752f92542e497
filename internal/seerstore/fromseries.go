package seerstore

import (
	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/internal/series"
)

// Metric names of the series points stored from a series.Batch, one per measured Sample field.
const (
	MetricDepth         = "seer.queue.depth"
	MetricMeanDepth     = "seer.queue.mean_depth"
	MetricInstantDepth  = "seer.queue.instant_depth"
	MetricReportedDepth = "seer.queue.outstanding_requests"
	MetricNICDepth      = "seer.queue.nic_depth"
	MetricListenBacklog = "seer.queue.listen_backlog"
	MetricArrivals      = "seer.queue.arrivals"
	MetricCompletions   = "seer.queue.completions"
	MetricLatencyMean   = "seer.latency.mean_ns"
	MetricLatencyMax    = "seer.latency.max_ns"
	MetricNetworkCalls  = "seer.network.calls"
	MetricNetworkMean   = "seer.network.mean_ns"
	MetricNetworkMax    = "seer.network.max_ns"
	MetricCallsFailed   = "seer.calls.failed"
)

// FromSeriesBatch turns one tick of the queuedepth processor's (or seernetqueue's) series into
// points at the tick's start: one point per measured field of each Sample (NaN fields, which were
// not measured, are left out; latency only when requests completed, network time only when calls
// were joined, failed calls only when there were some).
func FromSeriesBatch(b series.Batch) []SeriesPoint {
	ts := b.Start.UnixNano()
	out := make([]SeriesPoint, 0, len(b.Samples)*6)
	for i := range b.Samples {
		s := &b.Samples[i]
		add := func(metric string, v float64) {
			if series.Has(v) {
				out = append(out, SeriesPoint{Service: s.Service, Instance: s.Instance, Metric: metric, TsNs: ts, Value: v})
			}
		}
		add(MetricDepth, s.Depth)
		add(MetricMeanDepth, s.MeanDepth)
		add(MetricInstantDepth, s.InstantDepth)
		add(MetricReportedDepth, s.ReportedDepth)
		add(MetricNICDepth, s.NICDepth)
		add(MetricListenBacklog, s.ListenBacklog)
		add(MetricArrivals, s.Arrivals)
		add(MetricCompletions, s.Completions)
		if s.Latency.Count > 0 {
			add(MetricLatencyMean, float64(s.Latency.Mean()))
			add(MetricLatencyMax, float64(s.Latency.Max))
		}
		if s.Network.Count > 0 {
			add(MetricNetworkCalls, s.Network.Count)
			add(MetricNetworkMean, float64(s.Network.Mean()))
			add(MetricNetworkMax, float64(s.Network.Max))
		}
		if s.Failed > 0 {
			add(MetricCallsFailed, s.Failed)
		}
	}
	return out
}

// FromGraphSnapshot turns the queuedepth processor's dependency graph into a stored snapshot at
// its watermark.
func FromGraphSnapshot(s depgraph.Snapshot, version int64) GraphSnapshot {
	g := GraphSnapshot{TsNs: s.Watermark.UnixNano(), Version: version, Edges: make([]GraphEdge, 0, len(s.Edges))}
	for _, e := range s.Edges {
		g.Edges = append(g.Edges, GraphEdge{Caller: e.From, Callee: e.To, Calls: int64(e.Calls)})
	}
	return g
}
