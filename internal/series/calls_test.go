package series

import (
	"encoding/binary"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// call returns the CLIENT span id and its SERVER span (id+100, parent id) on
// instI.
func call(id byte, clientMS, serverMS [2]int64) (client, server *Span) {
	client = span(Key{Service: "caller", Instance: "c"}, id, clientMS[0], clientMS[1])
	client.Client = true
	server = span(instI, id+100, serverMS[0], serverMS[1])
	server.ParentID = [8]byte{id}
	return client, server
}

func TestEngineJoinsCallsEitherOrder(t *testing.T) {
	for _, serverFirst := range []bool{true, false} {
		t.Run(map[bool]string{true: "server first", false: "client first"}[serverFirst], func(t *testing.T) {
			var col collector
			e := newTestEngine(t, 500*time.Millisecond, &col)
			// Network 30 ms, ends in tick 100; network 5 ms and 15 ms, tick 200.
			c1, s1 := call(1, [2]int64{10, 150}, [2]int64{20, 130})
			c2, s2 := call(2, [2]int64{100, 215}, [2]int64{102, 212})
			c3, s3 := call(3, [2]int64{150, 290}, [2]int64{160, 285})
			order := []*Span{s1, c1, s2, s3, c2, c3}
			if !serverFirst {
				order = []*Span{c1, s1, c3, c2, s2, s3}
			}
			for _, s := range order {
				e.Add(s)
			}
			e.Add(span(instJ, 9, 900, 1400)) // watermark 900
			got := col.series(instI)
			assert.Equal(t, Latency{Count: 1, Sum: 30 * time.Millisecond, Min: 30 * time.Millisecond, Max: 30 * time.Millisecond}, got[100].Network)
			assert.Equal(t, Latency{Count: 2, Sum: 20 * time.Millisecond, Min: 5 * time.Millisecond, Max: 15 * time.Millisecond}, got[200].Network)
			assert.Zero(t, got[0].Network)
			st := e.Stats()
			assert.Equal(t, uint64(3), st.CallsMatched)
			assert.Equal(t, uint64(4), st.Accepted, "the three SERVER spans and instJ's: CLIENT spans are not requests")
			assert.Zero(t, st.CallsLate+st.CallsUnmatched+st.CallsFailed+st.CallsInvalid+st.CallsDuplicate)
			assert.Zero(t, e.PendingCalls())
		})
	}
}

// TestEngineCountsFailedCalls: a failed call counts in its callee's Failed
// at the tick the caller gave up, split over the callee's live instances;
// a callee without a series is counted as such, and no failed call counts
// in Network.
func TestEngineCountsFailedCalls(t *testing.T) {
	var col collector
	e := newTestEngine(t, 200*time.Millisecond, &col)
	e.Add(span(instI, 1, 0, 20))
	e.Add(span(instJ, 2, 0, 30))
	fail := func(id byte, peer string, startMS, endMS int64, w float64) {
		c := span(Key{Service: "caller", Instance: "c"}, id, startMS, endMS)
		c.Client, c.Failed, c.Peer, c.Weight = true, true, peer, w
		e.Add(c)
	}
	fail(10, "svc", 40, 140, 1)      // tick 100: half to each instance
	fail(11, "svc", 50, 150, 3)      // sampled 1 in 3
	fail(12, "svc", 60, 260, 1)      // tick 200
	fail(13, "nobody", 60, 160, 1)   // no series for the callee
	fail(14, "", 60, 160, 1)         // no peer.service
	e.Add(span(instI, 3, 900, 1000)) // watermark 800 ms: ticks up to 700 final
	for _, k := range []Key{instI, instJ} {
		got := col.series(k)
		assert.InDelta(t, 2.0, got[100].Failed, 1e-12, "%v tick 100", k)
		assert.InDelta(t, 0.5, got[200].Failed, 1e-12, "%v tick 200", k)
		assert.Zero(t, got[0].Failed+got[300].Failed, "%v", k)
		assert.Zero(t, got[100].Network.Count, "%v", k)
	}
	st := e.Stats()
	assert.Equal(t, uint64(3), st.CallsFailed)
	assert.Equal(t, uint64(2), st.CallsNoPeer)
	assert.Zero(t, e.PendingCalls(), "failed halves are swept with their tick")
}

// TestEngineFailedCallsOnceEach: a failed CLIENT span delivered twice counts
// once (the second is a duplicate), and the SERVER span of an error reply,
// in either order, pairs with it without counting in Network.
func TestEngineFailedCallsOnceEach(t *testing.T) {
	for _, serverFirst := range []bool{true, false} {
		t.Run(map[bool]string{true: "server first", false: "client first"}[serverFirst], func(t *testing.T) {
			var col collector
			e := newTestEngine(t, 200*time.Millisecond, &col)
			e.Add(span(instJ, 8, 0, 5))                             // svc is live
			c, srv := call(1, [2]int64{10, 150}, [2]int64{20, 130}) // an error reply
			c.Failed, c.Peer = true, "svc"
			if serverFirst {
				e.Add(srv)
			}
			e.Add(c)
			again := *c
			e.Add(&again)
			if !serverFirst {
				e.Add(srv)
			}
			e.Flush()
			got := col.series(instI)
			assert.InDelta(t, 1.0, got[100].Failed+col.series(instJ)[100].Failed, 1e-12, "one failed call, split over i and j")
			assert.Zero(t, got[100].Network.Count, "an error reply has no network time")
			st := e.Stats()
			assert.Equal(t, uint64(1), st.CallsFailed)
			assert.Equal(t, uint64(1), st.CallsDuplicate)
			assert.Zero(t, st.CallsMatched+st.CallsUnmatched+st.CallsLate)
			assert.Zero(t, e.PendingCalls())
		})
	}
}

// TestEngineFailedCallsKeepNoInstanceAlive: an instance that sends no more
// spans expires on time although calls into its service keep failing (they
// are no sign of life); until then it takes its share.
func TestEngineFailedCallsKeepNoInstanceAlive(t *testing.T) {
	var col collector
	e := newTestEngine(t, 200*time.Millisecond, &col) // expiry 10 s
	e.Add(span(instJ, 1, 0, 30))
	for i := range int64(200) {
		e.Add(span(instI, byte(2+i%200), 100*i, 100*i+50))
		if i%5 == 0 {
			c := span(Key{Service: "caller", Instance: "c"}, byte(i), 100*i, 100*i+60)
			c.TraceID[1] = byte(i) // one call per trace
			c.Client, c.Failed, c.Peer = true, true, "svc"
			e.Add(c)
		}
	}
	var expired []Key
	for _, b := range col.batches {
		expired = append(expired, b.Expired...)
	}
	assert.Equal(t, []Key{instJ}, expired)
	assert.InDelta(t, 0.5, col.series(instJ)[500].Failed, 1e-12, "j's share while it lived")
	assert.InDelta(t, 1.0, col.series(instI)[15000].Failed, 1e-12, "all of it once j expired")
}

func TestEngineCallsThatCannotCount(t *testing.T) {
	var col collector
	e := newTestEngine(t, 200*time.Millisecond, &col)
	failed, fs := call(1, [2]int64{10, 150}, [2]int64{20, 130})
	failed.Failed = true
	e.Add(fs)
	e.Add(failed)
	short, ss := call(2, [2]int64{10, 100}, [2]int64{20, 130}) // client shorter than server
	e.Add(ss)
	e.Add(short)
	alone, _ := call(3, [2]int64{30, 160}, [2]int64{0, 0}) // callee not traced
	e.Add(alone)
	dup, ds := call(4, [2]int64{30, 170}, [2]int64{40, 160})
	e.Add(dup)
	cp := *dup
	e.Add(&cp)
	e.Add(ds)
	backwards, _ := call(5, [2]int64{170, 160}, [2]int64{0, 0})
	e.Add(backwards)
	lateServer, _ := call(6, [2]int64{100, 180}, [2]int64{110, 170})
	e.Add(lateServer)

	// Watermark to 800 ms: the lone CLIENT spans' ticks are final.
	e.Add(span(instJ, 9, 900, 1000))
	_, ls := call(6, [2]int64{100, 180}, [2]int64{110, 170})
	ls.Start, ls.End = 810*ms, 850*ms // its server half now comes after the watermark passed its caller's end
	e.Add(ls)
	e.Add(span(instJ, 10, 1200, 1900))

	st := e.Stats()
	assert.Equal(t, uint64(1), st.CallsNoPeer, "failed, and no peer.service to count it in")
	assert.Zero(t, st.CallsFailed)
	assert.Equal(t, uint64(2), st.CallsInvalid, "shorter than its server, and end before start")
	assert.Equal(t, uint64(1), st.CallsDuplicate)
	assert.Equal(t, uint64(1), st.CallsMatched)
	assert.Equal(t, uint64(1), st.CallsUnmatched, "the untraced callee's")
	assert.Equal(t, uint64(1), st.CallsLate, "the caller of the server that came after the watermark passed it")
	assert.Zero(t, e.PendingCalls())
	for tick, s := range col.series(instI) {
		if tick != 100 {
			assert.Zerof(t, s.Network.Count, "tick %d", tick)
		}
	}
	assert.Equal(t, 20*time.Millisecond, col.series(instI)[100].Network.Sum, "call 4: 140 ms at the caller, 120 ms served")
}

// TestEngineNetworkMatchesDirectSum: random calls, their spans delivered in
// end order as a tracer would, give per tick exactly the network time summed
// directly.
func TestEngineNetworkMatchesDirectSum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var col collector
	e := newTestEngine(t, 300*time.Millisecond, &col)
	type ev struct {
		end int64
		s   *Span
	}
	var evs []ev
	want := map[int64]float64{} // tick start ms -> sum of network ns
	wantN := map[int64]float64{}
	for i := range 2000 {
		send := r.Int64N(5000) * ms
		out, back := r.Int64N(20*ms), r.Int64N(20*ms)
		serve := r.Int64N(80 * ms)
		c := &Span{Client: true, Key: Key{Service: "caller", Instance: "c"}, TraceID: [16]byte{byte(i), byte(i >> 8)}, SpanID: [8]byte{1},
			Start: send, End: send + out + serve + back, Weight: 1}
		s := &Span{Key: instI, TraceID: c.TraceID, SpanID: [8]byte{2}, ParentID: c.SpanID,
			Start: send + out, End: send + out + serve, Weight: 2}
		evs = append(evs, ev{c.End, c}, ev{s.End, s})
		tick := c.End / (100 * ms) * 100
		want[tick] += 2 * float64(out+back)
		wantN[tick] += 2
	}
	slices.SortStableFunc(evs, func(a, b ev) int { return int(a.end - b.end) })
	for _, x := range evs {
		e.Add(x.s)
	}
	e.Flush()
	require.Equal(t, uint64(2000), e.Stats().CallsMatched)
	got := col.series(instI)
	for tick, w := range want {
		assert.InDeltaf(t, w, float64(got[tick].Network.Sum), 1, "tick %d", tick)
		assert.InDeltaf(t, wantN[tick], got[tick].Network.Count, 1e-9, "tick %d", tick)
	}
}

// newQuickExpiryEngine expires a series one tick after its last span.
func newQuickExpiryEngine(t *testing.T, c *collector) *Engine {
	t.Helper()
	e, err := NewEngine(EngineConfig{Tick: 100 * time.Millisecond, AllowedLateness: 500 * time.Millisecond,
		Expiry: 100 * time.Millisecond, MaxServices: 10, MaxInstances: 10}, c.emit)
	require.NoError(t, err)
	return e
}

// TestEngineCallIntoExpiredSeries: the callee's series expired while its
// SERVER span waited for the CLIENT span; the call is late, not counted into
// a series no one reads.
func TestEngineCallIntoExpiredSeries(t *testing.T) {
	var col collector
	e := newQuickExpiryEngine(t, &col)
	c, s := call(1, [2]int64{100, 550}, [2]int64{110, 150})
	e.Add(s)
	e.Add(span(instJ, 9, 700, 1000)) // watermark 500: instI expired, its span still waits for its caller's
	require.Equal(t, uint64(1), e.Stats().Expired)
	e.Add(c)
	st := e.Stats()
	assert.Equal(t, uint64(1), st.CallsLate)
	assert.Zero(t, st.CallsMatched)
}

// TestEngineJoinedCallKeepsSeriesAlive: a call joined into a tick ahead of
// the watermark keeps its callee's series alive until that tick is emitted.
func TestEngineJoinedCallKeepsSeriesAlive(t *testing.T) {
	var col collector
	e := newQuickExpiryEngine(t, &col)
	c, s := call(1, [2]int64{100, 450}, [2]int64{110, 150})
	e.Add(s)
	e.Add(c)
	e.Add(span(instJ, 9, 1400, 1500)) // watermark 1000
	require.Equal(t, uint64(1), e.Stats().CallsMatched)
	assert.Equal(t, 310*time.Millisecond, col.series(instI)[400].Network.Sum, "350 ms at the caller, 40 served")
	assert.Equal(t, uint64(1), e.Stats().Expired, "and then it expires")
}

// TestEngineFlushSettlesWaitingCalls: at Flush no other half can come, so a
// waiting CLIENT half is unmatched and nothing stays pending.
func TestEngineFlushSettlesWaitingCalls(t *testing.T) {
	var col collector
	e := newTestEngine(t, 500*time.Millisecond, &col)
	c, s := call(1, [2]int64{100, 450}, [2]int64{110, 150})
	lone, _ := call(2, [2]int64{100, 250}, [2]int64{0, 0})
	e.Add(s)
	e.Add(lone)
	e.Add(c)
	e.Flush()
	st := e.Stats()
	assert.Equal(t, uint64(1), st.CallsMatched)
	assert.Equal(t, uint64(1), st.CallsUnmatched)
	assert.Zero(t, e.PendingCalls())
}

// TestEngineCallWeight: a call counts with the weight of its less likely
// sampled half.
func TestEngineCallWeight(t *testing.T) {
	var col collector
	e := newTestEngine(t, 500*time.Millisecond, &col)
	c, s := call(1, [2]int64{10, 150}, [2]int64{20, 130})
	c.Weight, s.Weight = 4, 2
	e.Add(s)
	e.Add(c)
	e.Flush()
	assert.Equal(t, 4.0, col.series(instI)[100].Network.Count)
}

// TestEngineCallsMapShrinksAfterBurst: after a burst of halves that never
// match is swept, the map is rebuilt small (a Go map keeps its largest
// buckets); a small steady backlog does not cause copies.
func TestEngineCallsMapShrinksAfterBurst(t *testing.T) {
	var col collector
	e := newTestEngine(t, 200*time.Millisecond, &col)
	ptr := func() uintptr { return uintptr(reflect.ValueOf(e.calls).UnsafePointer()) }
	steady := ptr()
	for i := range 100 { // below callsShrinkMin: never copied
		c, _ := call(1, [2]int64{int64(i), int64(i) + 50}, [2]int64{0, 0})
		binary.BigEndian.PutUint64(c.SpanID[:], uint64(i)+1)
		e.Add(c)
	}
	advance := func(fromMS int64) { // a watermark over several sweeps
		for m := fromMS; m < fromMS+2000; m += 100 {
			e.Add(span(instJ, 9, m, m+1))
		}
	}
	advance(1000)
	require.Zero(t, e.PendingCalls())
	require.Equal(t, steady, ptr(), "a small backlog must not be copied")

	burst := 2 * callsShrinkMin
	for i := range burst {
		c, _ := call(1, [2]int64{5000, 5100}, [2]int64{0, 0})
		binary.BigEndian.PutUint64(c.SpanID[:], uint64(i)+1000)
		e.Add(c)
	}
	require.Equal(t, burst, e.PendingCalls())
	advance(6000)
	assert.Zero(t, e.PendingCalls())
	assert.NotEqual(t, steady, ptr(), "the swept map must be rebuilt")
	assert.Zero(t, e.callsPeak)
	assert.Equal(t, uint64(100+burst), e.Stats().CallsUnmatched)
}

// TestShrinkCallsKeepsWaitingHalves: the rebuilt map holds every half that
// was waiting.
func TestShrinkCallsKeepsWaitingHalves(t *testing.T) {
	var col collector
	e := newTestEngine(t, 200*time.Millisecond, &col)
	for k := range uint64(callsShrinkMin) {
		e.calls[k] = callHalf{end: int64(k), dur: 1, w: 1}
	}
	e.callsPeak = len(e.calls)
	for k := range uint64(callsShrinkMin) {
		if k%5 != 0 {
			delete(e.calls, k)
		}
	}
	want := maps.Clone(e.calls)
	before := reflect.ValueOf(e.calls).UnsafePointer()
	e.shrinkCalls()
	require.NotEqual(t, before, reflect.ValueOf(e.calls).UnsafePointer(), "a fifth of the peak left: rebuilt")
	assert.Equal(t, want, e.calls)
	assert.Equal(t, len(want), e.callsPeak)
}
