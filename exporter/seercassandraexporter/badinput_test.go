package seercassandraexporter

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/seer-qos/seer/exporter/seercassandraexporter/internal/metadatatest"
	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore/cassandratest"
	"github.com/seer-qos/seer/internal/seerstore/seerstoretest"
)

// badRequest returns a request mixing good spans with every kind of bad input, and the ids of the
// spans that must be stored.
func badRequest(now time.Time) (ptrace.Traces, map[string]int) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "bad-input")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	stored := map[string]int{}
	n := byte(0)
	add := func(store bool, edit func(sp ptrace.Span)) {
		n++
		sp := spans.AppendEmpty()
		sp.SetTraceID(pcommon.TraceID{0xba, 0xd, n})
		sp.SetSpanID(pcommon.SpanID{0xba, 0xd, n})
		sp.SetName(fmt.Sprintf("span-%d", n))
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
		edit(sp)
		if store {
			stored[fmt.Sprintf("%x/%x", [16]byte(sp.TraceID()), [8]byte(sp.SpanID()))] = 1
		}
	}
	add(true, func(ptrace.Span) {})                                                  // good
	add(false, func(sp ptrace.Span) { sp.SetTraceID(pcommon.TraceID{}) })            // zero trace id
	add(false, func(sp ptrace.Span) { sp.SetSpanID(pcommon.SpanID{}) })              // zero span id
	add(false, func(sp ptrace.Span) { sp.SetStartTimestamp(0) })                     // unset start
	add(false, func(sp ptrace.Span) { sp.SetEndTimestamp(sp.StartTimestamp() - 1) }) // end before start
	add(false, func(sp ptrace.Span) {                                                // a century from now
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now.AddDate(100, 0, 0)))
		sp.SetEndTimestamp(sp.StartTimestamp() + 1)
	})
	add(false, func(sp ptrace.Span) { // duplicate of the first span
		sp.SetTraceID(pcommon.TraceID{0xba, 0xd, 1})
		sp.SetSpanID(pcommon.SpanID{0xba, 0xd, 1})
	})
	add(true, func(sp ptrace.Span) { // one huge attribute: truncated, stored
		sp.Attributes().PutStr("http.request.body", strings.Repeat("x", 4<<20))
	})
	add(false, func(sp ptrace.Span) { // many attributes: too large even after truncation
		for i := 0; i < 5000; i++ {
			sp.Attributes().PutStr(fmt.Sprintf("k%04d", i), strings.Repeat("v", 100))
		}
	})
	add(true, func(sp ptrace.Span) { // invalid UTF-8 everywhere: repaired, stored
		sp.SetName("bad\xff\xfename")
		sp.Attributes().PutStr("key\xc3", "value\xe2\x82")
		sp.Status().SetMessage("\xed\xa0\x80")
	})
	return td, stored
}

// TestBadInput checks that bad spans are refused with a clear permanent error and counted by
// reason, that the good and repairable spans of the same request are stored, and that the
// pipeline goes on: later requests through the sending queue are stored.
func TestBadInput(t *testing.T) {
	n := cassandratest.Get(t)
	ctx := context.Background()
	tt := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tt.Shutdown(ctx)) }()

	cfg := testConfig(t, n)
	withoutQueue(cfg) // see the error ConsumeTraces gets
	st := openStore(t, n, cfg)
	f := NewFactory()
	exp, err := f.CreateTraces(ctx, metadatatest.NewSettings(tt), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))

	td, want := badRequest(time.Now())
	err = exp.ConsumeTraces(ctx, td)
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err), "bad data must not be retried: %v", err)
	assert.Contains(t, err.Error(), "rejected 7 span(s) (duplicate_id=1, timestamp_out_of_range=3, too_large=1, zero_span_id=1, zero_trace_id=1)")
	require.NoError(t, exp.Shutdown(ctx))

	got, err := storedIDs(t, st, cfg.Keyspace)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	// The repaired span is stored valid and the huge attribute truncated.
	spans, err := st.Trace(ctx, seerstore.TraceID{0xba, 0xd, 10})
	require.NoError(t, err)
	require.Len(t, spans, 1)
	assert.Equal(t, "bad\uFFFDname", spans[0].Name)
	back, err := seerstore.ToTraces(spans)
	require.NoError(t, err)
	attrs := back.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw()
	assert.Equal(t, map[string]any{"key\uFFFD": "value\uFFFD"}, attrs)
	spans, err = st.Trace(ctx, seerstore.TraceID{0xba, 0xd, 8})
	require.NoError(t, err)
	require.Len(t, spans, 1)
	back, err = seerstore.ToTraces(spans)
	require.NoError(t, err)
	body, _ := back.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get("http.request.body")
	assert.Len(t, body.Str(), 16<<10+len("...[truncated]"))

	assert.Equal(t, map[string]int64{"duplicate_id": 1, "timestamp_out_of_range": 3, "too_large": 1, "zero_span_id": 1, "zero_trace_id": 1},
		countsByReason(t, tt, "otelcol_exporter_seercassandra_rejected_spans"))
	assert.Equal(t, map[string]int64{"invalid_utf8": 1, "truncated_value": 1},
		countsByReason(t, tt, "otelcol_exporter_seercassandra_repaired_spans"))
}

// TestBadInputDoesNotStallQueue sends bad requests between good ones through the sending queue:
// every good span arrives, none of the bad ones is retried for ever.
func TestBadInputDoesNotStallQueue(t *testing.T) {
	n := cassandratest.Get(t)
	ctx := context.Background()
	cfg := testConfig(t, n)
	q := cfg.QueueConfig.Get()
	q.NumConsumers = 1 // one consumer: a stuck request would block everything behind it
	q.Batch.GetOrInsertDefault().FlushTimeout = 10 * time.Millisecond
	st := openStore(t, n, cfg)
	f := NewFactory()
	exp, err := f.CreateTraces(ctx, exportertestSettings(f), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))

	g := seerstoretest.Gen{Seed: 3, Start: time.Now().Add(-time.Minute)}
	want := map[string]int{}
	for i := 0; i < 5; i++ {
		bad, ok := badRequest(time.Now())
		for id := range ok {
			want[id] = 1
		}
		require.NoError(t, exp.ConsumeTraces(ctx, bad))
		good := g.Traces(50)
		for id := range idsOf(good) {
			want[id] = 1
		}
		require.NoError(t, exp.ConsumeTraces(ctx, good))
	}
	waitFor(t, 30*time.Second, "every good span stored", func() (bool, string) {
		got, err := storedIDs(t, st, cfg.Keyspace)
		if err != nil {
			return false, err.Error()
		}
		return len(got) == len(want), fmt.Sprintf("%d of %d", len(got), len(want))
	})
	require.NoError(t, exp.Shutdown(ctx))
	got, err := storedIDs(t, st, cfg.Keyspace)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// countsByReason returns a counter's values by its reason attribute.
func countsByReason(t *testing.T, tt *componenttest.Telemetry, name string) map[string]int64 {
	t.Helper()
	m, err := tt.GetMetric(name)
	require.NoError(t, err)
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is not an int sum", name)
	out := map[string]int64{}
	for _, dp := range sum.DataPoints {
		r, _ := dp.Attributes.Value("reason")
		out[r.AsString()] += dp.Value
	}
	return out
}
