// Package depgraph owns Seer's service dependency graph: it learns the graph
// from parent/child spans across services (no operator has to describe it),
// keeps per-edge call rate, error rate and latency, per-operation fan-out and
// the critical path per entry operation, reports the design shapes that the
// Seer paper finds behind hotspots (cycles, high fan-out, back-and-forth
// pairs, blocking sequential calls) and publishes graph changes as events.
//
// Spans are grouped by trace and a trace is analysed once the event-time
// watermark (newest span end - TraceWait) has passed its newest span, so the
// graph, like the series, depends only on the spans' own timestamps.
package depgraph

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Config bounds and tunes a Graph.
type Config struct {
	// TraceWait is how long (event time) after a trace's newest span end the
	// trace is analysed; spans that come later are counted as late. A trace
	// in which a client or internal span's parent has not come (a request
	// longer than TraceWait, whose own span ends after its calls') is held
	// back up to one Window more for it, while the spans of the traces held
	// back (counted when held) are a quarter of MaxPendingSpans at most.
	TraceWait time.Duration `mapstructure:"trace_wait"`
	// Window is the event-time window of call and error rates; graph changes
	// (expiry, critical path) are evaluated once per window.
	Window time.Duration `mapstructure:"window"`
	// Expiry removes services and edges not seen for this long (event time).
	Expiry time.Duration `mapstructure:"expiry"`
	// MaxPendingSpans caps the spans buffered while their traces complete.
	MaxPendingSpans int `mapstructure:"max_pending_spans"`
	// MaxServices, MaxOperations and MaxEdges cap the graph; what does not
	// fit is counted as overflow.
	MaxServices   int `mapstructure:"max_services"`
	MaxOperations int `mapstructure:"max_operations"`
	MaxEdges      int `mapstructure:"max_edges"`
	// FanOutThreshold: an operation making at least this many calls per
	// invocation (mean) is a fan-out hotspot.
	FanOutThreshold float64 `mapstructure:"fan_out_threshold"`
	// ChattyCallsPerTrace: two services exchanging at least this many calls
	// per trace (mean, both directions) are a back-and-forth hotspot; calls
	// in both directions within one trace always are.
	ChattyCallsPerTrace float64 `mapstructure:"chatty_calls_per_trace"`
	// BlockingMinFraction: an operation whose multi-call invocations make
	// their calls strictly one after another at least this often is a
	// blocking hotspot.
	BlockingMinFraction float64 `mapstructure:"blocking_min_fraction"`
	// MinInvocations is the evidence an operation (or a pair of services:
	// traces) needs before it is reported as a hotspot: invocations
	// analysed, not scaled back up for SampleRatio.
	MinInvocations int `mapstructure:"min_invocations"`
	// SampleRatio is the share of traces the graph analyses, chosen by trace
	// ID (Sampled) so that every span of a trace is in or out. Counts and
	// rates in snapshots are scaled back by 1/SampleRatio; shapes (edges,
	// fan-out, cycles, blocking, critical paths) need only a sample, but an
	// edge used in fewer than about 1/SampleRatio traces may be missed.
	SampleRatio float64 `mapstructure:"sample_ratio"`
}

// Sampled reports whether the trace is in a sample of the given ratio. Like
// OpenTelemetry's consistent probability sampling it compares the trace ID's
// 56 random bits with a threshold, so collectors agree on the sample.
func Sampled(trace [16]byte, ratio float64) bool {
	if ratio >= 1 {
		return true
	}
	r := binary.BigEndian.Uint64(trace[8:]) & (1<<56 - 1)
	return float64(r) < ratio*(1<<56)
}

// DefaultConfig returns the defaults used by the queuedepth processor.
func DefaultConfig() Config {
	return Config{
		// Covers the SDK batch delays of a tuned pipeline; raise it when
		// exporters flush less often (the OTel SDK default is 5 s).
		TraceWait: 2 * time.Second,
		// Long enough for a stable rate, short enough to see shifts.
		Window: 10 * time.Second,
		// A service is "gone" after 5 minutes without spans.
		Expiry: 5 * time.Minute,
		// About 5 s of traffic at 20k spans/s.
		MaxPendingSpans: 100_000,
		MaxServices:     1_000,
		MaxOperations:   10_000,
		MaxEdges:        10_000,
		// The Seer paper's high fan-out tiers synchronise several calls.
		FanOutThreshold:     4,
		ChattyCallsPerTrace: 4,
		BlockingMinFraction: 0.5,
		MinInvocations:      10,
		// Every trace: exact graphs. Lower it to trade accuracy for CPU at
		// high span rates.
		SampleRatio: 1,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.TraceWait < 0 {
		errs = append(errs, fmt.Errorf("trace_wait must not be negative, got %v", c.TraceWait))
	}
	if c.Window <= 0 {
		errs = append(errs, fmt.Errorf("window must be positive, got %v", c.Window))
	}
	if c.Expiry < c.Window {
		errs = append(errs, fmt.Errorf("expiry (%v) must be at least one window (%v)", c.Expiry, c.Window))
	}
	if c.MaxPendingSpans < 1 || c.MaxServices < 1 || c.MaxOperations < 1 || c.MaxEdges < 1 {
		errs = append(errs, errors.New("max_pending_spans, max_services, max_operations and max_edges must be positive"))
	}
	if c.FanOutThreshold <= 0 || c.ChattyCallsPerTrace <= 0 {
		errs = append(errs, errors.New("fan_out_threshold and chatty_calls_per_trace must be positive"))
	}
	if c.BlockingMinFraction <= 0 || c.BlockingMinFraction > 1 {
		errs = append(errs, fmt.Errorf("blocking_min_fraction must be in (0, 1], got %v", c.BlockingMinFraction))
	}
	if !(c.SampleRatio > 0 && c.SampleRatio <= 1) {
		errs = append(errs, fmt.Errorf("sample_ratio must be in (0, 1], got %v", c.SampleRatio))
	}
	if c.MinInvocations < 1 {
		errs = append(errs, fmt.Errorf("min_invocations must be positive, got %d", c.MinInvocations))
	}
	return errors.Join(errs...)
}
