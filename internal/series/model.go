// Package series owns Seer's per-microservice queue-depth time series: the
// data model every other package uses (the queuedepth processor and the
// seernetqueue receiver produce it; the predictor and storage consume it),
// the event-time Engine that builds it from spans, and the Hub through which
// it is handed over in process.
//
// A series is identified by a Key (service, instance) and advances on a
// fixed tick of event time: the Sample of tick k covers [k*Tick, (k+1)*Tick)
// of the spans' own clock, never the collector's.
package series

import (
	"math"
	"time"
)

// OverflowService and OverflowInstance name the series that take the spans
// of services and instances beyond the configured caps.
const (
	OverflowService  = "__overflow__"
	OverflowInstance = "__overflow__"
)

// Key identifies one series: a service instance.
type Key struct {
	Service  string
	Instance string
}

// Source says which measurements contributed to a Sample (bit set).
type Source uint8

const (
	// SourceSpans: depth derived from span start and end times.
	SourceSpans Source = 1 << iota
	// SourceReported: the software queue depth the service reported on its
	// spans (seer.queue.outstanding_requests).
	SourceReported
	// SourceNIC: NIC/socket queue readings (seer.queue.nic_depth on spans or
	// the seernetqueue receiver).
	SourceNIC
)

// Latency summarises the latencies of the requests completed in a tick.
type Latency struct {
	// Count is the (sampling-weighted) number of completions.
	Count float64
	// Sum is the weighted sum of latencies.
	Sum time.Duration
	// Min and Max are the extremes; zero when Count is 0.
	Min, Max time.Duration
}

// LatencyAcc accumulates a Latency from weighted durations. The sum is a
// float64, so fractional sampling weights add up without rounding each
// time (exact for integer nanoseconds below 2^53 with weight 1).
type LatencyAcc struct {
	Count, Sum float64
	Min, Max   int64 // ns
}

// Add counts one duration d (ns) with weight w.
func (a *LatencyAcc) Add(d int64, w float64) {
	if a.Count == 0 || d < a.Min {
		a.Min = d
	}
	a.Max = max(a.Max, d)
	a.Count += w
	a.Sum += w * float64(d)
}

// Latency is the summary so far; zero without anything counted. A sum past
// the range of a Duration (huge sampling weights) saturates rather than
// wrapping negative.
func (a *LatencyAcc) Latency() Latency {
	if a.Count == 0 {
		return Latency{}
	}
	sum := time.Duration(math.MaxInt64)
	if a.Sum < math.MaxInt64 {
		sum = time.Duration(a.Sum)
	}
	return Latency{Count: a.Count, Sum: sum, Min: time.Duration(a.Min), Max: time.Duration(a.Max)}
}

// Mean is Sum/Count, or 0 without completions.
func (l Latency) Mean() time.Duration {
	if l.Count == 0 {
		return 0
	}
	return time.Duration(float64(l.Sum) / l.Count)
}

// Sample is one tick of one series. Fields that were not measured in the
// tick are NaN (see Has).
type Sample struct {
	Key
	// Depth is the queue-depth signal for prediction: ReportedDepth where
	// the service reported its software queue during the tick, MeanDepth
	// otherwise. For Poisson arrivals both estimate the same quantity (an
	// arrival sees the time-average queue, PASTA).
	Depth float64
	// MeanDepth is the time-average number of outstanding requests (arrived,
	// not completed) over the tick, from span start and end times.
	MeanDepth float64
	// InstantDepth is the number of outstanding requests at the end of the
	// tick (just before it: a request ending exactly then still counts, one
	// arriving then does not), from span start and end times: the previous
	// tick's plus this tick's Arrivals less its Completions, but for spans
	// that arrived before the watermark (LateClipped), counted from it on.
	InstantDepth float64
	// ReportedDepth is the mean software queue depth the service reported
	// at the arrivals of the tick; NaN when none reported one.
	ReportedDepth float64
	// NICDepth is the mean NIC/socket queue reading of the tick; NaN when
	// there was none. Unit: what the source measures (seer.queue.nic_depth:
	// the sender's unit; seernetqueue: bytes received and not yet read).
	NICDepth float64
	// ListenBacklog is connections waiting to be accepted (seernetqueue
	// only); NaN otherwise.
	ListenBacklog float64
	// Arrivals and Completions are the (sampling-weighted) requests that
	// arrived and completed in the tick.
	Arrivals, Completions float64
	// Latency summarises the requests completed in the tick.
	Latency Latency
	// Network summarises the network time of the calls into the instance
	// whose replies reached their callers in the tick: the caller's CLIENT
	// span minus the instance's SERVER span (both ways on the wire and any
	// wait in the caller's connection pool). A network fault into the
	// instance shows here and not in Latency, which its callers' other
	// callees share. Only calls whose CLIENT and SERVER spans both arrive
	// and whose caller got a reply count.
	Network Latency
	// Failed is the (sampling-weighted) number of calls into the instance
	// whose caller gave up in the tick: timed out, got no reply or an error
	// status (the caller's CLIENT span with an error status, by its
	// peer.service). A lost request leaves no SERVER span to name the
	// instance, so a service's failed calls are split equally over its live
	// instances. A network loss into a service shows here first: its own
	// series sees only fewer arrivals, its callers wait longer. Errors
	// cascade: a call that fails below makes its callers' replies errors
	// too, so each hop above counts a failed call in its own callee; the
	// deepest such service is the likelier origin.
	Failed float64
	// Sources says what was measured.
	Sources Source
}

// Has reports whether v holds a measurement (is not NaN).
func Has(v float64) bool { return !math.IsNaN(v) }

// Origin names the producer of a Batch.
type Origin string

const (
	// OriginSpans is the queuedepth processor.
	OriginSpans Origin = "spans"
	// OriginNetQueue is the seernetqueue receiver.
	OriginNetQueue Origin = "netqueue"
)

// Batch is one tick of every live series of one producer.
type Batch struct {
	Origin Origin
	// Start and End bound the tick in event time: [Start, End).
	Start, End time.Time
	// Samples has one entry per live series; order is unspecified.
	Samples []Sample
	// Expired lists the series that ended at this tick (no span for the
	// configured expiry); they appear in no later Batch unless they return.
	Expired []Key
}
