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

// TestExpiryForgetsPathsAndPairs: when a service and the calls with it
// expire, no critical path goes through it any more, and a back-and-forth
// pair goes with its edges (even while both services live on).
func TestExpiryForgetsPathsAndPairs(t *testing.T) {
	g, _ := newGraph(t, func(c *Config) {
		c.TraceWait = 100 * time.Millisecond
		c.Window = time.Second
		c.Expiry = 3 * time.Second
		c.MinInvocations = 1
	})
	sec := int64(time.Second)
	for i := range int64(10) {
		b := &builder{trace: uint64(i + 1), at: base + i*100*msNS}
		root := b.span(0, "frontend", "GET", KindServer, 0, 50)
		b.call(root, "frontend", "user", "get", 5, 45)
		_, s := b.call(root, "frontend", "cart", "get", 5, 45)
		b.call(s, "cart", "frontend", "price", 10, 40) // back and forth
		g.Add(b.spans)
	}
	require.NotEmpty(t, g.Hotspots().BackAndForth)
	for i := range int64(12) { // frontend and cart live on, serving POST alone
		b := &builder{trace: uint64(100 + i), at: base + 2*sec + i*sec}
		b.span(0, "frontend", "POST", KindServer, 0, 50)
		b.span(0, "cart", "POST", KindServer, 0, 50)
		g.Add(b.spans)
	}
	snap := g.Snapshot()
	for _, s := range snap.Services {
		assert.NotEqual(t, "user", s.Name, "user expired")
	}
	for _, p := range snap.CriticalPaths {
		assert.NotContains(t, p.Path, "user", "root %s", p.Root)
	}
	assert.Empty(t, snap.Edges)
	assert.Empty(t, g.Hotspots().BackAndForth)
}

// TestHotspotEvidenceIsAnalysed: with a sample ratio below 1, an operation
// needs MinInvocations analysed invocations to be a hotspot, not one
// invocation scaled up to look like many.
func TestHotspotEvidenceIsAnalysed(t *testing.T) {
	g, _ := newGraph(t, func(c *Config) { c.SampleRatio = 0.1; c.MinInvocations = 10 })
	for n := uint64(1); len(g.Hotspots().FanOut) == 0 && n < 1<<20; n++ {
		if !Sampled(tid(n), 0.1) {
			continue
		}
		b := &builder{trace: n, at: base + int64(n)*msNS}
		root := b.span(0, "frontend", "GET", KindServer, 0, 50)
		for _, callee := range []string{"a", "b", "c", "d", "e"} {
			b.call(root, "frontend", callee, "get", 5, 45)
		}
		g.Add(b.spans)
		g.Flush()
		analysed := g.services["frontend"].ops["GET"].invocations
		if fo := g.Hotspots().FanOut; len(fo) > 0 {
			assert.GreaterOrEqual(t, analysed, uint64(10), "a fan-out hotspot on %d analysed invocations", analysed)
			return
		}
	}
	t.Fatal("no fan-out hotspot")
}

// TestHeldBackTracesAreBounded: traces whose client spans' parents never
// come (a caller that does not trace) are held back for a quarter of
// max_pending_spans at most; the rest are analysed after trace_wait.
func TestHeldBackTracesAreBounded(t *testing.T) {
	g, _ := newGraph(t, func(c *Config) { c.TraceWait = time.Second; c.MaxPendingSpans = 400 })
	for i := range int64(300) { // 10 ms apart: 3 s of traces with 2 spans each
		b := &builder{trace: uint64(i + 1), at: base + i*10*msNS}
		c, _ := b.call(0, "edge", "api", "get", 0, 5)
		b.spans[0].ParentID = sid(uint64(1_000_000 + c)) // a parent no span will ever be
		g.Add(b.spans)
		require.LessOrEqual(t, g.waitingSpans, 100)
	}
	st := g.Stats()
	assert.Zero(t, st.Dropped, "pending spans stayed under the cap")
	assert.Positive(t, st.Traces)
}
