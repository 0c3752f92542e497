package depgraph

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// opsOf returns "service operation" -> [invocations, calls] of a snapshot.
func opsOf(s Snapshot) map[string][2]uint64 {
	out := map[string][2]uint64{}
	for _, svc := range s.Services {
		for _, o := range svc.Operations {
			out[svc.Name+" "+o.Name] = [2]uint64{o.Invocations, o.Calls}
		}
	}
	return out
}

// TestLongRequestIsOneTrace: a request longer than trace_wait, whose
// children end (and are sent) long before its own span, is analysed once,
// whole: not as its children alone (the client span taken for a root) and
// then its own span alone.
func TestLongRequestIsOneTrace(t *testing.T) {
	g, _ := newGraph(t, func(c *Config) { c.TraceWait = time.Second })
	sec := int64(time.Second)
	b := &builder{trace: 1, at: base}
	root := b.span(0, "frontend", "GET", KindServer, 0, 5000) // a 5 s request
	b.call(root, "frontend", "user", "get", 10, 500)          // its call done at 0.5 s
	g.Add(b.spans[1:])
	for i := range int64(4) { // other traffic: the watermark passes the call
		g.Add([]Span{{TraceID: tid(uint64(100 + i)), SpanID: sid(1), Service: "other", Operation: "x", Kind: KindServer,
			Start: base + i*sec, End: base + (i+1)*sec}})
	}
	g.Add(b.spans[:1])
	g.Flush()
	st := g.Stats()
	assert.Zero(t, st.Late)
	assert.Equal(t, uint64(5), st.Traces)
	ops := opsOf(g.Snapshot())
	assert.Equal(t, [2]uint64{1, 1}, ops["frontend GET"], "the request and its call, together")
	assert.NotContains(t, ops, "frontend get", "the client span taken for an entry")
}

// TestSpanOfPendingTraceJoinsIt: a span that ends before the watermark
// joins its trace while the trace is still pending (its root ended later).
func TestSpanOfPendingTraceJoinsIt(t *testing.T) {
	g, _ := newGraph(t, func(c *Config) { c.TraceWait = time.Second })
	sec := int64(time.Second)
	b := &builder{trace: 1, at: base}
	root := b.span(0, "frontend", "GET", KindServer, 0, 10000)
	b.call(root, "frontend", "user", "get", 10, 7000)
	g.Add(b.spans[:1]) // the root, ending at 10 s, first
	g.Add([]Span{{TraceID: tid(100), SpanID: sid(1), Service: "other", Operation: "x", Kind: KindServer, Start: base, End: base + 9*sec}})
	require.Greater(t, g.watermark(), base+7*sec)
	g.Add(b.spans[1:]) // ending at 7 s, before the watermark
	g.Flush()
	assert.Zero(t, g.Stats().Late)
	edges := g.Snapshot().Edges
	require.Len(t, edges, 1)
	assert.Equal(t, "frontend", edges[0].From)
	assert.Equal(t, "user", edges[0].To)
}

// TestSpanOfAnalysedTraceIsLate: once its trace was analysed, a span that
// ends before the watermark is late, and a parent that never comes does not
// hold its trace back for more than a window.
func TestSpanOfAnalysedTraceIsLate(t *testing.T) {
	g, _ := newGraph(t, func(c *Config) { c.TraceWait = time.Second; c.Window = 2 * time.Second })
	sec := int64(time.Second)
	b := &builder{trace: 1, at: base}
	root := b.span(0, "frontend", "GET", KindServer, 0, 100)
	b.call(root, "frontend", "user", "get", 10, 50)
	g.Add(b.spans[1:]) // the call; its parent is lost
	for i := range int64(5) {
		g.Add([]Span{{TraceID: tid(uint64(100 + i)), SpanID: sid(1), Service: "other", Operation: "x", Kind: KindServer,
			Start: base + i*sec, End: base + (i+1)*sec}})
	}
	assert.Equal(t, uint64(4), g.Stats().Traces, "the call's trace analysed after a window (and three others)")
	g.Add(b.spans[:1])
	assert.Equal(t, uint64(1), g.Stats().Late)
}
