package queuedepthprocessor

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seer-qos/seer/internal/series"
)

// view keeps, per live series, the last final tick and running totals for
// the Prometheus endpoint.
type view struct {
	mu      sync.Mutex
	entries map[series.Key]*viewEntry
	lastEnd time.Time
}

type viewEntry struct {
	last                  series.Sample
	arrivals, completions float64
	latCount              float64
	latSum                float64 // seconds
	netCount              float64
	netSum                float64 // seconds
	failed                float64
}

func newView() *view { return &view{entries: make(map[series.Key]*viewEntry)} }

func (v *view) update(b series.Batch) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lastEnd = b.End
	for i := range b.Samples {
		s := &b.Samples[i]
		e, ok := v.entries[s.Key]
		if !ok {
			e = &viewEntry{}
			v.entries[s.Key] = e
		}
		e.last = *s
		e.arrivals += s.Arrivals
		e.completions += s.Completions
		e.latCount += s.Latency.Count
		e.latSum += s.Latency.Sum.Seconds()
		e.netCount += s.Network.Count
		e.netSum += s.Network.Sum.Seconds()
		e.failed += s.Failed
	}
	for _, k := range b.Expired {
		delete(v.entries, k)
	}
}

var (
	seriesLabels = []string{"service", "instance"}

	descDepth         = prometheus.NewDesc("seer_queue_depth", "Queue depth signal of the last final tick: the reported software queue where spans carry it, else the time-average outstanding requests.", seriesLabels, nil)
	descDepthMean     = prometheus.NewDesc("seer_queue_depth_mean", "Time-average outstanding requests over the last final tick, from span start and end times.", seriesLabels, nil)
	descDepthInstant  = prometheus.NewDesc("seer_queue_depth_instant", "Outstanding requests at the end of the last final tick, from span start and end times.", seriesLabels, nil)
	descReported      = prometheus.NewDesc("seer_queue_reported_depth", "Mean software queue depth reported by the service (seer.queue.outstanding_requests) in the last final tick.", seriesLabels, nil)
	descNIC           = prometheus.NewDesc("seer_queue_nic_depth", "Mean NIC queue depth reported on spans (seer.queue.nic_depth) in the last final tick.", seriesLabels, nil)
	descArrivals      = prometheus.NewDesc("seer_queue_arrivals_total", "Requests that arrived (sampling-weighted), over final ticks.", seriesLabels, nil)
	descCompletions   = prometheus.NewDesc("seer_queue_completions_total", "Requests that completed (sampling-weighted), over final ticks.", seriesLabels, nil)
	descLatency       = prometheus.NewDesc("seer_queue_latency_seconds", "Latency of completed requests, over final ticks.", seriesLabels, nil)
	descLatencyMax    = prometheus.NewDesc("seer_queue_latency_max_seconds", "Longest request completed in the last final tick.", seriesLabels, nil)
	descNetwork       = prometheus.NewDesc("seer_queue_network_seconds", "Network time of the calls into the instance (caller's CLIENT span minus the instance's SERVER span), over final ticks.", seriesLabels, nil)
	descFailed        = prometheus.NewDesc("seer_queue_calls_failed_total", "Calls into the instance whose caller gave up (timeout, no reply, error status; a service's split equally over its instances), sampling-weighted, over final ticks.", seriesLabels, nil)
	descTickEnd       = prometheus.NewDesc("seer_queue_tick_end_timestamp_seconds", "Event time at which the last final tick ended (the watermark).", nil, nil)
	descTickSeconds   = prometheus.NewDesc("seer_queuedepth_tick_seconds", "The configured tick.", nil, nil)
	descSpans         = prometheus.NewDesc("seer_queuedepth_spans_total", "Spans seen by the queuedepth processor, by outcome.", []string{"outcome"}, nil)
	descCalls         = prometheus.NewDesc("seer_queuedepth_calls_total", "CLIENT spans seen by the queuedepth processor, by outcome of the join with their SERVER span.", []string{"outcome"}, nil)
	descCallsPending  = prometheus.NewDesc("seer_queuedepth_calls_pending", "Halves of calls waiting for the other half.", nil, nil)
	descClipped       = prometheus.NewDesc("seer_queuedepth_late_clipped_spans_total", "Accepted spans that arrived before the watermark and were counted from it on.", nil, nil)
	descOverflow      = prometheus.NewDesc("seer_queuedepth_overflow_spans_total", "Spans that went to an overflow series because a cap was reached.", []string{"level"}, nil)
	descSeries        = prometheus.NewDesc("seer_queuedepth_series", "Live series.", []string{"level"}, nil)
	descSeriesLimit   = prometheus.NewDesc("seer_queuedepth_series_limit", "Cap on live series.", []string{"level"}, nil)
	descExpired       = prometheus.NewDesc("seer_queuedepth_series_expired_total", "Series removed after series_expiry without spans.", nil, nil)
	descTicks         = prometheus.NewDesc("seer_queuedepth_ticks_total", "Final ticks emitted.", nil, nil)
	descSkipped       = prometheus.NewDesc("seer_queuedepth_skipped_ticks_total", "Empty ticks jumped over after a silence in the spans.", nil, nil)
	descHubPublished  = prometheus.NewDesc("seer_queuedepth_hub_batches_total", "Series batches published to in-process subscribers.", nil, nil)
	descHubDropped    = prometheus.NewDesc("seer_queuedepth_hub_dropped_total", "Series batches a subscriber lost because its buffer was full.", []string{"subscriber"}, nil)
	descHubSubs       = prometheus.NewDesc("seer_queuedepth_hub_subscribers", "In-process series subscribers.", nil, nil)
	descGraphSpans    = prometheus.NewDesc("seer_graph_spans_total", "Spans seen by the dependency graph, by outcome.", []string{"outcome"}, nil)
	descGraphTraces   = prometheus.NewDesc("seer_graph_traces_total", "Traces analysed by the dependency graph.", nil, nil)
	descGraphSize     = prometheus.NewDesc("seer_graph_size", "Size of the dependency graph.", []string{"level"}, nil)
	descGraphLimit    = prometheus.NewDesc("seer_graph_limit", "Caps of the dependency graph.", []string{"level"}, nil)
	descGraphOverflow = prometheus.NewDesc("seer_graph_overflow_total", "What exceeded a cap of the dependency graph.", []string{"level"}, nil)
	descGraphEvDrop   = prometheus.NewDesc("seer_graph_events_dropped_total", "Graph change events subscribers lost because their buffer was full.", nil, nil)
)

// promCollector exports the view and the processor's own counters.
type promCollector struct{ sh *shared }

// Describe sends nothing: the collector is unchecked because its series
// come and go with the services.
func (promCollector) Describe(chan<- *prometheus.Desc) {}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

// Collect implements prometheus.Collector.
func (c promCollector) Collect(ch chan<- prometheus.Metric) {
	sh := c.sh
	c.collectSeries(ch)

	sh.mu.Lock()
	st := sh.engine.Stats()
	svcs, insts := sh.engine.Counts()
	pendingCalls := sh.engine.PendingCalls()
	other, future := sh.other, sh.future
	sh.mu.Unlock()
	cfg := sh.cfg
	gauge(ch, descTickSeconds, cfg.Tick.Seconds())
	counter(ch, descSpans, float64(st.Accepted), "accepted")
	counter(ch, descSpans, float64(st.LateDropped), "late")
	counter(ch, descSpans, float64(st.Duplicates), "duplicate")
	counter(ch, descSpans, float64(st.Invalid), "invalid")
	counter(ch, descSpans, float64(other), "not_request")
	counter(ch, descSpans, float64(future), "future")
	for outcome, n := range map[string]uint64{"matched": st.CallsMatched, "failed": st.CallsFailed, "failed_no_peer": st.CallsNoPeer, "late": st.CallsLate,
		"unmatched": st.CallsUnmatched, "invalid": st.CallsInvalid, "duplicate": st.CallsDuplicate} {
		counter(ch, descCalls, float64(n), outcome)
	}
	gauge(ch, descCallsPending, float64(pendingCalls))
	counter(ch, descClipped, float64(st.LateClipped))
	counter(ch, descOverflow, float64(st.OverflowServiceSpans), "service")
	counter(ch, descOverflow, float64(st.OverflowInstanceSpans), "instance")
	gauge(ch, descSeries, float64(svcs), "service")
	gauge(ch, descSeries, float64(insts), "instance")
	gauge(ch, descSeriesLimit, float64(cfg.MaxServices), "service")
	gauge(ch, descSeriesLimit, float64(cfg.MaxInstances), "instance")
	counter(ch, descExpired, float64(st.Expired))
	counter(ch, descTicks, float64(st.Ticks))
	counter(ch, descSkipped, float64(st.SkippedTicks))
	counter(ch, descHubPublished, float64(sh.hub.Published()))
	subs := sh.hub.Subscribers()
	gauge(ch, descHubSubs, float64(len(subs)))
	for _, s := range subs {
		counter(ch, descHubDropped, float64(s.Dropped), s.Name)
	}

	gs := sh.graph.Stats()
	nSvc, nOps, nEdges, pending := sh.graph.Sizes()
	counter(ch, descGraphSpans, float64(gs.Buffered), "accepted")
	counter(ch, descGraphSpans, float64(gs.Late), "late")
	counter(ch, descGraphSpans, float64(gs.Dropped), "dropped")
	counter(ch, descGraphSpans, float64(gs.DuplicateSpans), "duplicate")
	counter(ch, descGraphSpans, float64(gs.OrphanSpans), "orphan")
	counter(ch, descGraphSpans, float64(gs.UnpairedClients), "unpaired_client")
	counter(ch, descGraphTraces, float64(gs.Traces))
	gauge(ch, descGraphSize, float64(nSvc), "service")
	gauge(ch, descGraphSize, float64(nOps), "operation")
	gauge(ch, descGraphSize, float64(nEdges), "edge")
	gauge(ch, descGraphSize, float64(pending), "pending_span")
	gauge(ch, descGraphLimit, float64(cfg.Graph.MaxServices), "service")
	gauge(ch, descGraphLimit, float64(cfg.Graph.MaxOperations), "operation")
	gauge(ch, descGraphLimit, float64(cfg.Graph.MaxEdges), "edge")
	gauge(ch, descGraphLimit, float64(cfg.Graph.MaxPendingSpans), "pending_span")
	counter(ch, descGraphOverflow, float64(gs.OverflowServices), "service")
	counter(ch, descGraphOverflow, float64(gs.OverflowOperations), "operation")
	counter(ch, descGraphOverflow, float64(gs.OverflowEdges), "edge")
	counter(ch, descGraphOverflow, float64(gs.OverflowPaths), "critical_path")
	counter(ch, descGraphEvDrop, float64(sh.feed.EventsDropped()))
}

// collectSeries sends the series of the last tick. The view stays locked
// only while it runs, whatever happens: a panic here (client_golang
// recovers those of a collector) must not leave it locked, or the next tick
// would block the pipeline.
func (c promCollector) collectSeries(ch chan<- prometheus.Metric) {
	v := c.sh.view
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, e := range v.entries {
		s := &e.last
		gauge(ch, descDepth, s.Depth, k.Service, k.Instance)
		gauge(ch, descDepthMean, s.MeanDepth, k.Service, k.Instance)
		gauge(ch, descDepthInstant, s.InstantDepth, k.Service, k.Instance)
		if series.Has(s.ReportedDepth) {
			gauge(ch, descReported, s.ReportedDepth, k.Service, k.Instance)
		}
		if series.Has(s.NICDepth) {
			gauge(ch, descNIC, s.NICDepth, k.Service, k.Instance)
		}
		counter(ch, descArrivals, e.arrivals, k.Service, k.Instance)
		counter(ch, descCompletions, e.completions, k.Service, k.Instance)
		ch <- prometheus.MustNewConstSummary(descLatency, uint64(e.latCount), e.latSum, nil, k.Service, k.Instance)
		gauge(ch, descLatencyMax, s.Latency.Max.Seconds(), k.Service, k.Instance)
		ch <- prometheus.MustNewConstSummary(descNetwork, uint64(e.netCount), e.netSum, nil, k.Service, k.Instance)
		counter(ch, descFailed, e.failed, k.Service, k.Instance)
	}
	if !v.lastEnd.IsZero() {
		gauge(ch, descTickEnd, float64(v.lastEnd.UnixNano())/1e9)
	}
}
