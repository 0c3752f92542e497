package seerstore

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Reason names why a span was rejected or changed; it is the "reason" attribute of the exporters'
// rejected and repaired counters.
type Reason string

// Reasons a span is rejected (not stored).
const (
	RejectZeroTraceID Reason = "zero_trace_id"
	RejectZeroSpanID  Reason = "zero_span_id"
	RejectTimestamp   Reason = "timestamp_out_of_range"
	RejectTooLarge    Reason = "too_large"
	RejectDuplicate   Reason = "duplicate_id" // same trace and span id twice in one request
)

// Reasons a span is stored changed.
const (
	RepairInvalidUTF8 Reason = "invalid_utf8"    // invalid UTF-8 replaced by U+FFFD
	RepairTruncated   Reason = "truncated_value" // attribute value cut to Limits.MaxAttributeBytes
	RepairNoService   Reason = "no_service_name" // service.name missing: "unknown_service"
)

// Counts counts spans by reason.
type Counts map[Reason]int

// Total returns the sum of the counts.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// AddTo adds each count to counter, with its reason as the "reason" attribute.
func (c Counts) AddTo(ctx context.Context, counter metric.Int64Counter) {
	for r, n := range c {
		counter.Add(ctx, int64(n), metric.WithAttributes(attribute.String("reason", string(r))))
	}
}

// String lists the counts as "reason=n, ..." in reason order.
func (c Counts) String() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%d", k, c[Reason(k)])
	}
	return b.String()
}

// Verdict is the outcome of converting a request: the spans to store and what was refused or
// changed. Rejected spans are not in Spans.
type Verdict struct {
	Spans    []Span
	Rejected Counts
	Repaired Counts
	// FirstRejection describes the first rejected span, for error messages and logs.
	FirstRejection string
}

// Err returns nil when nothing was rejected, else an error naming the counts and the first case.
func (v *Verdict) Err() error {
	if v.Rejected.Total() == 0 {
		return nil
	}
	return fmt.Errorf("rejected %d span(s) (%s); first: %s", v.Rejected.Total(), v.Rejected, v.FirstRejection)
}

func (v *Verdict) reject(r Reason, format string, args ...any) {
	if v.Rejected == nil {
		v.Rejected = Counts{}
	}
	v.Rejected[r]++
	if v.FirstRejection == "" {
		v.FirstRejection = string(r) + ": " + fmt.Sprintf(format, args...)
	}
}

func (v *Verdict) repair(r Reason) {
	if v.Repaired == nil {
		v.Repaired = Counts{}
	}
	v.Repaired[r]++
}
