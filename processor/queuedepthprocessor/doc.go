//go:generate go tool mdatagen metadata.yaml

// Package queuedepthprocessor implements the queuedepth processor: from the
// spans that pass through it (unchanged) it keeps, per service and instance,
// the number of requests outstanding, sampled on a fixed event-time tick, with
// arrivals, completions, a latency summary and the network time of the
// calls into the instance per tick (package series), and it learns the
// service dependency graph (package depgraph).
//
// # Depth
//
// SERVER (and CONSUMER) spans are requests: a request is outstanding at an
// instance from its span's start to its end. Where a span carries the
// seerthrift queue attributes (seer.queue.outstanding_requests,
// seer.queue.nic_depth), the series reports those readings as well and uses
// the software queue reading as its depth signal; elsewhere (plain OTLP) the
// depth is derived from start and end times. Time is the spans' own: a tick
// is final once the watermark (newest span end - allowed_lateness) has
// passed it, so a replay at any speed gives the series that live traffic
// gave. A span ending before the watermark is counted as late and dropped; a
// span that started before it is counted as clipped and contributes from the
// watermark on; a repeated (trace ID, span ID) is counted as a duplicate.
// A request is only known when its span ends, so a request that lasts longer
// than allowed_lateness is clipped: choose allowed_lateness above the p99
// duration plus the export delay, or rely on the reported software queue.
//
// # Network time
//
// CLIENT spans are calls. Each is joined with the SERVER span it called
// (same trace; the SERVER span's parent is the CLIENT span), in either
// order, and the difference of their durations, what the caller waited
// beyond the callee's stay, goes into the callee instance's Network summary
// at the tick of the CLIENT span's end. Durations are each measured on one
// host, so clock skew does not enter. A half waits for the other until the
// watermark passes the CLIENT span's end (a SERVER half: one
// allowed_lateness longer); calls that failed (error status), whose callee
// is not traced, or that came too late are counted by outcome and not
// joined. CLIENT span ends move the watermark as SERVER span ends do.
//
// # Sampling
//
// A span whose trace was sampled with probability p (W3C tracestate
// "ot=th:..." of OpenTelemetry probability sampling, or Jaeger's
// sampler.type=probabilistic/sampler.param) counts 1/p times. Counts, depths
// and rates stay unbiased but noisy: for an instantaneous depth N the
// relative standard error is about sqrt((1-p)/(p*N)) (e.g. 95% at p=0.1 and
// N=1, 30% at N=10); the time-averaged depth of a tick is somewhat better
// (TestSampledDepth: p=0.25 on an M/M/1 queue of mean depth 1 with 100 ms
// ticks gives a bias of 0.1% and a per-tick RMS error of about 100% of the
// mean); averaging k ticks divides the error by about sqrt(k). Arrivals are
// only seen for sampled requests, so a burst shorter than 1/(p*rate) can
// be missed entirely. Tail-based sampling is biased towards slow requests
// and cannot be corrected; the reported software queue depth is unaffected
// by sampling (it is a reading, not a count).
//
// # Graph
//
// The graph groups spans by trace and analyses a trace once the graph's own
// watermark (newest span end - graph.trace_wait) has passed it (a trace
// still missing the in-process parent of a client or internal span, a
// request longer than trace_wait, up to one graph.window later); spans of a
// trace that was analysed already are counted as late. graph.sample_ratio
// below 1 analyses only that share of the traces, chosen by trace ID like
// consistent probability sampling, and scales counts back; it is the knob
// for CPU at high span rates (see the benchmarks).
//
// # What event time implies
//
// Ticks advance only with spans: while no span arrives, no tick becomes
// final (the last ones are emitted at shutdown), and after a silence longer
// than two ring lengths the empty ticks are skipped and counted rather than
// emitted. One global watermark serves every instance, so hosts' clocks
// must agree to well within allowed_lateness; spans that end more than
// max_clock_skew after the collector's clock are refused and counted.
// Memory per live instance is about (allowed_lateness/tick + 2) * 152 bytes
// of ring plus 32 to 64 bytes per span ID remembered for duplicate detection
// (the spans of the last one to two ring lengths; see the README).
//
// # How the series leave
//
// In process, every final tick is published as a series.Batch on the
// series.Hub named after this processor's component ID in
// series.DefaultRegistry (and graph changes on the depgraph.Feed of the same
// name in depgraph.DefaultRegistry). A predictor subscribes with
// series.DefaultRegistry.Acquire("queuedepth").Subscribe("predictor", 64):
// delivery is non-blocking with a bounded buffer per subscriber and counted
// drops. The Collector builds a processor once per pipeline; all instances
// of one component ID share one engine (reference-counted, like the
// Collector's internal sharedcomponent), and the registry creates a hub on
// first use by either side, so start order across pipelines does not matter.
// A connector was rejected because spans must pass through unchanged and the
// predictor needs typed series within milliseconds, not pdata metrics after
// a pipeline hop; an extension would add a second component every user must
// configure for no gain.
//
// For Prometheus, the processor serves /metrics (seer_queue_depth{service,
// instance} and friends, plus seer_queuedepth_* self-telemetry: late,
// duplicate, overflow, expired, caps and hub drops) on its own HTTP
// endpoint, next to GET /graph (depgraph.Snapshot as JSON) and GET
// /graph/hotspots (depgraph.Report).
// Owning the registry keeps the metric names exact (no OTLP-to-Prometheus
// renaming) and the series' cardinality under the processor's own caps.
package queuedepthprocessor // import "github.com/seer-qos/seer/processor/queuedepthprocessor"
