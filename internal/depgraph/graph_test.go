package depgraph

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const msNS = int64(time.Millisecond)

// base is aligned to the 10 s rate window.
var base = time.Date(2021, 3, 4, 5, 6, 0, 0, time.UTC).UnixNano()

func tid(n uint64) (id [16]byte) {
	binary.BigEndian.PutUint64(id[8:], n)
	return id
}

func sid(n uint64) (id [8]byte) {
	binary.BigEndian.PutUint64(id[:], n)
	return id
}

// builder makes the spans of one trace.
type builder struct {
	trace uint64
	next  uint64
	at    int64 // offset of the trace, ns
	spans []Span
}

func (b *builder) span(parent uint64, service, op string, kind Kind, startMS, endMS int64) uint64 {
	b.next++
	id := b.trace<<16 | b.next
	s := Span{TraceID: tid(b.trace), SpanID: sid(id), Service: service, Operation: op, Kind: kind,
		Start: b.at + startMS*msNS, End: b.at + endMS*msNS}
	if parent != 0 {
		s.ParentID = sid(parent)
	}
	b.spans = append(b.spans, s)
	return id
}

// call adds a CLIENT span in caller and the SERVER span of callee under it.
func (b *builder) call(parent uint64, caller, callee, op string, startMS, endMS int64) (clientID, serverID uint64) {
	c := b.span(parent, caller, op, KindClient, startMS, endMS)
	b.spans[len(b.spans)-1].PeerService = callee
	s := b.span(c, callee, op, KindServer, startMS+1, endMS-1)
	return c, s
}

func newGraph(t *testing.T, mutate func(*Config)) (*Graph, *Feed) {
	t.Helper()
	cfg := DefaultConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	feed := NewFeed("test")
	g, err := New(cfg, feed)
	require.NoError(t, err)
	return g, feed
}

// threeServiceTrace is the example application: frontend calls user and
// then storage; user calls storage.
func threeServiceTrace(n uint64, at int64, userErr bool) []Span {
	b := &builder{trace: n, at: at}
	root := b.span(0, "frontend", "ComposePage", KindServer, 0, 100)
	_, u := b.call(root, "frontend", "user", "getUser", 5, 45)
	c, _ := b.call(u, "user", "storage", "read", 15, 35)
	if userErr {
		b.spans[len(b.spans)-2].Error = true // the client span of user -> storage
	}
	_ = c
	b.call(root, "frontend", "storage", "read", 50, 90)
	// Arrival order: children end first.
	sort.SliceStable(b.spans, func(i, j int) bool { return b.spans[i].End < b.spans[j].End })
	return b.spans
}

func TestThreeServiceGraphIsExact(t *testing.T) {
	g, feed := newGraph(t, nil)
	events := feed.Subscribe("test", 100)
	const traces = 100
	for i := range uint64(traces) {
		// Traces end between base+3 s and base+9 s: one rate window.
		g.Add(threeServiceTrace(i+1, base+3*int64(time.Second)+int64(i)*50*msNS, i%5 == 0))
	}
	g.Flush()
	g.Rotate()
	snap := g.Snapshot()

	var names []string
	for _, s := range snap.Services {
		names = append(names, s.Name)
		assert.False(t, s.Virtual, s.Name)
	}
	assert.Equal(t, []string{"frontend", "storage", "user"}, names)
	require.Len(t, snap.Edges, 3)
	type edgeWant struct {
		from, to      string
		calls, errors uint64
		meanMS        float64
	}
	for i, w := range []edgeWant{
		{"frontend", "storage", traces, 0, 40},
		{"frontend", "user", traces, 0, 40},
		{"user", "storage", traces, traces / 5, 20},
	} {
		e := snap.Edges[i]
		assert.Equal(t, w.from, e.From)
		assert.Equal(t, w.to, e.To)
		assert.Equal(t, w.calls, e.Calls)
		assert.Equal(t, w.errors, e.Errors)
		assert.InDelta(t, float64(w.errors)/float64(w.calls), e.ErrorRate, 1e-12)
		assert.InDelta(t, float64(w.errors)/float64(w.calls), e.WindowErrorRate, 1e-12)
		assert.InDelta(t, float64(w.calls)/10, e.CallRate, 1e-12, "calls per second over the 10 s window")
		assert.InDelta(t, w.meanMS, e.Latency.MeanMS, 1e-9)
		assert.InDelta(t, w.meanMS, e.Latency.MaxMS, 1e-9)
		assert.InDelta(t, w.meanMS, e.Latency.P99MS, w.meanMS*0.2)
	}
	ops := map[string]OperationInfo{}
	for _, s := range snap.Services {
		for _, o := range s.Operations {
			ops[s.Name+" "+o.Name] = o
		}
	}
	assert.Equal(t, OperationInfo{Name: "ComposePage", Invocations: traces, Calls: 2 * traces, FanOutMean: 2, FanOutMax: 2,
		Callees: []string{"storage", "user"}, SequentialFraction: 1, MultiCall: traces}, ops["frontend ComposePage"])
	assert.Equal(t, OperationInfo{Name: "getUser", Invocations: traces, Calls: traces, FanOutMean: 1, FanOutMax: 1,
		Callees: []string{"storage"}}, ops["user getUser"])
	assert.Equal(t, OperationInfo{Name: "read", Invocations: 2 * traces}, ops["storage read"])
	assert.Empty(t, snap.Cycles)
	assert.Equal(t, []CriticalPath{{Root: "frontend ComposePage", Path: []string{"frontend", "storage"}}}, snap.CriticalPaths)

	r := g.Hotspots()
	assert.Empty(t, r.Cycles)
	require.NotNil(t, r.HighestFanOut)
	assert.Equal(t, "frontend", r.HighestFanOut.Service)
	assert.Equal(t, "ComposePage", r.HighestFanOut.Operation)
	assert.Empty(t, r.FanOut, "2 calls per invocation is under the threshold of 4")
	require.Len(t, r.Blocking, 1, "frontend calls user, then storage, one after the other")
	assert.Equal(t, "frontend", r.Blocking[0].Service)
	assert.InDelta(t, 40, r.Blocking[0].SavableMS, 1e-9, "40 ms + 40 ms in sequence, 40 ms concurrently")
	assert.Empty(t, r.BackAndForth)

	// Events: three services, three edges, the first critical path.
	var got []string
	for len(events.C) > 0 {
		e := <-events.C
		got = append(got, string(e.Type)+" "+e.Service+e.From+">"+e.To+e.Root)
	}
	sort.Strings(got)
	assert.Equal(t, []string{
		"critical_path_changed >frontend ComposePage",
		"edge_added frontend>storage", "edge_added frontend>user", "edge_added user>storage",
		"service_added frontend>", "service_added storage>", "service_added user>",
	}, got)
	st := g.Stats()
	assert.Equal(t, uint64(traces), st.Traces)
	assert.Equal(t, uint64(traces*7), st.Buffered)
	assert.Zero(t, st.Late+st.Dropped+st.OrphanSpans+st.UnpairedClients)
}

// genGraph is a generated call graph: a random DAG from s0 plus one back
// edge that closes a cycle.
type genGraph struct {
	n     int
	adj   [][]int
	calls map[int]float64 // calls made, per service
	// edgeCalls counts the calls generated per edge "a>b".
	edgeCalls map[string]uint64
	invoc     map[int]float64 // invocations, per service
}

func name(i int) string { return fmt.Sprintf("s%d", i) }

func newGenGraph(rng *rand.Rand, n int) *genGraph {
	g := &genGraph{n: n, adj: make([][]int, n), calls: map[int]float64{}, invoc: map[int]float64{}, edgeCalls: map[string]uint64{}}
	has := func(a, b int) bool {
		for _, x := range g.adj[a] {
			if x == b {
				return true
			}
		}
		return false
	}
	add := func(a, b int) {
		if !has(a, b) {
			g.adj[a] = append(g.adj[a], b)
		}
	}
	add(0, 1)
	add(0, 2)
	add(2, 3)
	add(3, 5)
	for a := 1; a < n; a++ {
		for b := a + 1; b < n; b++ {
			if rng.Float64() < 0.25 {
				add(a, b)
			}
		}
	}
	// Every service reachable from s0.
	for b := 1; b < n; b++ {
		reach := false
		for a := 0; a < b; a++ {
			reach = reach || has(a, b)
		}
		if !reach {
			add(0, b)
		}
	}
	// s1 fans out to every leaf it can reach: the highest fan-out.
	for b := 2; b < n; b++ {
		add(1, b)
	}
	add(5, 2) // the back edge: cycle s2 -> s3 -> s5 -> s2
	return g
}

// trace emits one request: every service calls all its callees in parallel;
// a service already on the call stack answers without calling further.
func (g *genGraph) trace(n uint64, at int64) []Span {
	b := &builder{trace: n, at: at}
	onStack := make([]bool, g.n)
	var visit func(svc int, serverID uint64, startMS int64)
	visit = func(svc int, serverID uint64, startMS int64) {
		g.invoc[svc]++
		if onStack[svc] {
			return
		}
		onStack[svc] = true
		for _, callee := range g.adj[svc] {
			g.calls[svc]++
			g.edgeCalls[name(svc)+">"+name(callee)]++
			_, s := b.call(serverID, name(svc), name(callee), "op", startMS+1, startMS+9)
			visit(callee, s, startMS+1)
		}
		onStack[svc] = false
	}
	root := b.span(0, name(0), "op", KindServer, 0, 10)
	visit(0, root, 0)
	return b.spans
}

// simplePaths counts the simple paths from a to b.
func (g *genGraph) simplePaths(a, b int, seen []bool) int {
	if a == b {
		return 1
	}
	seen[a] = true
	defer func() { seen[a] = false }()
	n := 0
	for _, x := range g.adj[a] {
		if !seen[x] && !(a == 5 && x == 2) {
			n += g.simplePaths(x, b, seen)
		}
	}
	return n
}

func TestGeneratedGraphWithCycle(t *testing.T) {
	gen := newGenGraph(rand.New(rand.NewPCG(7, 7)), 9)
	g, _ := newGraph(t, func(c *Config) { c.MinInvocations = 1 })
	for i := range uint64(20) {
		g.Add(gen.trace(i+1, base+int64(i)*100*msNS))
	}
	g.Flush()
	snap := g.Snapshot()

	var want, got []string
	for a, callees := range gen.adj {
		for _, b := range callees {
			want = append(want, name(a)+">"+name(b))
		}
	}
	for _, e := range snap.Edges {
		got = append(got, e.From+">"+e.To)
		assert.Equal(t, gen.edgeCalls[e.From+">"+e.To], e.Calls, e.From+">"+e.To)
	}
	sort.Strings(want)
	assert.Equal(t, want, got, "the learned edges are the generated ones")
	assert.Len(t, snap.Services, gen.n)

	// Every cycle goes through the back edge s5 -> s2, one per simple path
	// from s2 to s5.
	r := g.Hotspots()
	assert.Contains(t, r.Cycles, []string{"s2", "s3", "s5"})
	assert.Len(t, r.Cycles, gen.simplePaths(2, 5, make([]bool, gen.n)))
	for _, c := range r.Cycles {
		assert.Equal(t, "s2", c[0])
		assert.Equal(t, "s5", c[len(c)-1], "closed by s5 -> s2")
	}

	// The highest fan-out is the generator's own highest calls per invocation.
	best, bestMean := -1, 0.0
	for s := 0; s < gen.n; s++ {
		if m := gen.calls[s] / gen.invoc[s]; gen.invoc[s] > 0 && m > bestMean {
			best, bestMean = s, m
		}
	}
	require.NotNil(t, r.HighestFanOut)
	assert.Equal(t, name(best), r.HighestFanOut.Service)
	assert.InDelta(t, bestMean, r.HighestFanOut.Mean, 1e-12)
	require.NotEmpty(t, r.FanOut)
	assert.Equal(t, name(best), r.FanOut[0].Service)
	// s2 and s5 call each other within one trace: back and forth.
	var pairs []string
	for _, p := range r.BackAndForth {
		pairs = append(pairs, p.A+"-"+p.B)
	}
	assert.Contains(t, pairs, "s2-s5")
}

func TestLateDuplicateOrphanAndPeerOnlySpans(t *testing.T) {
	g, _ := newGraph(t, func(c *Config) { c.TraceWait = time.Second })
	b := &builder{trace: 1, at: base}
	root := b.span(0, "web", "GET /", KindServer, 0, 100)
	cl := b.span(root, "web", "SELECT", KindClient, 10, 20)
	b.spans[len(b.spans)-1].PeerService = "postgres" // not instrumented
	_ = cl
	b.span(root, "web", "cache", KindClient, 30, 40) // no peer.service: unpaired
	dup := b.spans[0]
	orphan := Span{TraceID: tid(1), SpanID: sid(99), ParentID: sid(98), Service: "api", Operation: "x", Kind: KindServer, Start: base, End: base + 50*msNS}
	g.Add(append(b.spans, dup, orphan))
	// A later trace moves the watermark past trace 1; then a late span.
	g.Add([]Span{{TraceID: tid(2), SpanID: sid(1), Service: "web", Operation: "GET /", Kind: KindServer, Start: base + 5000*msNS, End: base + 5100*msNS}})
	g.Add([]Span{{TraceID: tid(1), SpanID: sid(50), ParentID: sid(1<<16 | 1), Service: "web", Kind: KindServer, Start: base, End: base + 90*msNS}})
	st := g.Stats()
	assert.Equal(t, uint64(1), st.Late)
	assert.Equal(t, uint64(1), st.DuplicateSpans)
	assert.Equal(t, uint64(1), st.OrphanSpans)
	assert.Equal(t, uint64(1), st.UnpairedClients)
	snap := g.Snapshot()
	require.Len(t, snap.Edges, 1)
	assert.Equal(t, "web", snap.Edges[0].From)
	assert.Equal(t, "postgres", snap.Edges[0].To)
	assert.InDelta(t, 10, snap.Edges[0].Latency.MeanMS, 1e-9)
	var pg ServiceInfo
	for _, s := range snap.Services {
		if s.Name == "postgres" {
			pg = s
		}
	}
	assert.True(t, pg.Virtual)
}

func TestChangesAndExpiry(t *testing.T) {
	g, feed := newGraph(t, func(c *Config) {
		c.TraceWait = 100 * time.Millisecond
		c.Window = time.Second
		c.Expiry = 3 * time.Second
	})
	events := feed.Subscribe("test", 1000)
	sec := int64(time.Second)
	// 0-2 s: frontend calls user; from 2 s the critical path goes through cache.
	for i := int64(0); i < 20; i++ {
		b := &builder{trace: uint64(i + 1), at: base + i*100*msNS}
		root := b.span(0, "frontend", "GET", KindServer, 0, 50)
		if i < 10 {
			b.call(root, "frontend", "user", "get", 5, 45)
		} else {
			b.call(root, "frontend", "cache", "get", 5, 45)
		}
		sort.SliceStable(b.spans, func(i, j int) bool { return b.spans[i].End < b.spans[j].End })
		g.Add(b.spans)
	}
	// Only the frontend from 5 s on: user and cache expire.
	for i := int64(0); i < 10; i++ {
		b := &builder{trace: uint64(100 + i), at: base + 5*sec + i*sec}
		b.span(0, "frontend", "GET", KindServer, 0, 50)
		g.Add(b.spans)
	}
	var got []string
	for len(events.C) > 0 {
		e := <-events.C
		s := string(e.Type) + " " + e.Service + e.From + ">" + e.To
		if e.Type == CriticalPathChanged {
			s = fmt.Sprint(e.Type, " ", e.OldPath, "->", e.NewPath)
		}
		got = append(got, s)
	}
	assert.Equal(t, []string{
		"service_added user>", "service_added frontend>", "edge_added frontend>user",
		"critical_path_changed []->[frontend user]",
		"service_added cache>", "edge_added frontend>cache",
		"critical_path_changed [frontend user]->[frontend cache]",
		"edge_removed frontend>cache", "edge_removed frontend>user",
		"service_removed cache>", "service_removed user>",
		"critical_path_changed [frontend cache]->[frontend]",
	}, got)
	snap := g.Snapshot()
	require.Len(t, snap.Services, 1)
	assert.Empty(t, snap.Edges)
}

func TestCaps(t *testing.T) {
	g, _ := newGraph(t, func(c *Config) {
		c.MaxServices = 2
		c.MaxOperations = 3
		c.MaxPendingSpans = 4
	})
	var spans []Span
	for i := range 6 {
		spans = append(spans, Span{TraceID: tid(uint64(i)), SpanID: sid(1), Service: name(i % 3), Operation: name(i), Kind: KindServer, Start: base, End: base + 1})
	}
	g.Add(spans)
	g.Flush()
	st := g.Stats()
	assert.Equal(t, uint64(2), st.Dropped, "4 spans pending at most")
	assert.Equal(t, uint64(1), st.OverflowServices, "s2 goes to __overflow__")
	svcs, ops, _, pending := g.Sizes()
	assert.Equal(t, 3, svcs, "two services and the overflow service")
	assert.LessOrEqual(t, ops, 3+2)
	assert.Positive(t, st.OverflowOperations)
	assert.Zero(t, pending)
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	err := Config{}.Validate()
	require.Error(t, err)
	assert.ErrorContains(t, err, "window must be positive")
	assert.ErrorContains(t, err, "min_invocations")
}

func TestSampledGraphScalesCounts(t *testing.T) {
	g, _ := newGraph(t, func(c *Config) { c.SampleRatio = 0.25 })
	kept := 0
	for i := range uint64(4000) {
		var tr [16]byte
		binary.BigEndian.PutUint64(tr[8:], mix64(i))
		if !Sampled(tr, 0.25) {
			continue
		}
		kept++
		spans := threeServiceTrace(i+1, base+int64(i)*msNS, false)
		for j := range spans {
			spans[j].TraceID = tr
		}
		g.Add(spans)
	}
	g.Flush()
	snap := g.Snapshot()
	assert.InDelta(t, 1000, kept, 100, "about a quarter of the traces")
	require.Len(t, snap.Edges, 3)
	for _, e := range snap.Edges {
		assert.Equal(t, uint64(4*kept), e.Calls, "scaled back")
	}
	assert.Equal(t, 0.25, snap.SampleRatio)
	assert.True(t, Sampled([16]byte{}, 0.01))
	assert.False(t, Sampled([16]byte{8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}, 0.99))
}
