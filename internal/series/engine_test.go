package series

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ms = int64(time.Millisecond)

// collector gathers emitted batches by series.
type collector struct {
	batches []Batch
}

func (c *collector) emit(b Batch) { c.batches = append(c.batches, b) }

// series returns the samples of k, in tick order, keyed by tick start (ms).
func (c *collector) series(k Key) map[int64]Sample {
	out := map[int64]Sample{}
	for _, b := range c.batches {
		for _, s := range b.Samples {
			if s.Key == k {
				out[b.Start.UnixNano()/ms] = s
			}
		}
	}
	return out
}

func span(k Key, id byte, startMS, endMS int64) *Span {
	return &Span{Key: k, SpanID: [8]byte{id}, TraceID: [16]byte{1}, Start: startMS * ms, End: endMS * ms,
		Weight: 1, Reported: math.NaN(), NIC: math.NaN()}
}

func newTestEngine(t *testing.T, late time.Duration, c *collector) *Engine {
	t.Helper()
	e, err := NewEngine(EngineConfig{Tick: 100 * time.Millisecond, AllowedLateness: late,
		Expiry: 10 * time.Second, MaxServices: 10, MaxInstances: 10}, c.emit)
	require.NoError(t, err)
	return e
}

// want is one tick of expected values.
type want struct {
	tickMS                    int64
	instant, mean             float64
	arrivals, completions     float64
	latCount                  float64
	latMinMS, latMaxMS, latMS int64 // latMS: sum
}

func checkSeries(t *testing.T, got map[int64]Sample, wants []want) {
	t.Helper()
	for _, w := range wants {
		s, ok := got[w.tickMS]
		if !assert.Truef(t, ok, "no sample for tick %d ms", w.tickMS) {
			continue
		}
		assert.InDeltaf(t, w.instant, s.InstantDepth, 1e-9, "instant depth, tick %d", w.tickMS)
		assert.InDeltaf(t, w.mean, s.MeanDepth, 1e-9, "mean depth, tick %d", w.tickMS)
		assert.InDeltaf(t, w.mean, s.Depth, 1e-9, "depth signal, tick %d", w.tickMS)
		assert.InDeltaf(t, w.arrivals, s.Arrivals, 1e-9, "arrivals, tick %d", w.tickMS)
		assert.InDeltaf(t, w.completions, s.Completions, 1e-9, "completions, tick %d", w.tickMS)
		assert.InDeltaf(t, w.latCount, s.Latency.Count, 1e-9, "latency count, tick %d", w.tickMS)
		assert.Equalf(t, time.Duration(w.latMinMS*ms), s.Latency.Min, "latency min, tick %d", w.tickMS)
		assert.Equalf(t, time.Duration(w.latMaxMS*ms), s.Latency.Max, "latency max, tick %d", w.tickMS)
		assert.Equalf(t, time.Duration(w.latMS*ms), s.Latency.Sum, "latency sum, tick %d", w.tickMS)
	}
}

var (
	instI = Key{Service: "svc", Instance: "i"}
	instJ = Key{Service: "svc", Instance: "j"}
)

// Hand-built: A=[10,250) B=[50,120) C=[130,340) on one instance, tick 100 ms.
var abcWants = []want{
	{tickMS: 0, instant: 2, mean: 1.4, arrivals: 2},
	{tickMS: 100, instant: 2, mean: 1.9, arrivals: 1, completions: 1, latCount: 1, latMinMS: 70, latMaxMS: 70, latMS: 70},
	{tickMS: 200, instant: 1, mean: 1.5, completions: 1, latCount: 1, latMinMS: 240, latMaxMS: 240, latMS: 240},
	{tickMS: 300, instant: 0, mean: 0.4, completions: 1, latCount: 1, latMinMS: 210, latMaxMS: 210, latMS: 210},
	{tickMS: 400}, {tickMS: 500}, {tickMS: 600}, {tickMS: 700},
}

func TestEngineExactDepthsAnyOrder(t *testing.T) {
	a, b, c := span(instI, 1, 10, 250), span(instI, 2, 50, 120), span(instI, 3, 130, 340)
	orders := map[string][]*Span{
		"by end":         {b, a, c},
		"out of order":   {c, a, b},
		"reversed":       {c, b, a},
		"with duplicate": {b, a, b, c, a},
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			var col collector
			e := newTestEngine(t, 500*time.Millisecond, &col)
			for _, s := range order {
				cp := *s
				e.Add(&cp)
			}
			// A span of another instance moves the watermark to 800 ms.
			e.Add(span(instJ, 9, 900, 1300))
			assert.Equal(t, time.Unix(0, 800*ms), e.Watermark())
			checkSeries(t, col.series(instI), abcWants)
			st := e.Stats()
			assert.Equal(t, uint64(4), st.Accepted)
			assert.Equal(t, uint64(len(order)-3), st.Duplicates)
			assert.Zero(t, st.LateDropped+st.LateClipped+st.Invalid)
			last := col.batches[len(col.batches)-1]
			assert.Equal(t, time.Unix(0, 700*ms), last.Start)
			for i := 1; i < len(col.batches); i++ {
				assert.Equal(t, col.batches[i-1].End, col.batches[i].Start, "ticks are contiguous")
			}
		})
	}
}

func TestEngineLateSpans(t *testing.T) {
	var col collector
	e := newTestEngine(t, 200*time.Millisecond, &col)
	for _, s := range []*Span{span(instI, 2, 50, 120), span(instI, 1, 10, 250), span(instI, 3, 130, 340)} {
		e.Add(s)
	}
	// Watermark: first span ends at 120 ms -> ticks from -1 open; 340-200=140 -> tick 0 final.
	e.Add(span(instJ, 9, 900, 1000)) // watermark 800
	require.Equal(t, time.Unix(0, 800*ms), e.Watermark())
	checkSeries(t, col.series(instI), abcWants)

	// Ends before the watermark: dropped and counted.
	e.Add(span(instI, 4, 150, 700))
	// Arrived before the watermark, ends after it: counted from 800 on.
	e.Add(span(instI, 5, 750, 850))
	// A duplicate of an already final span is late as well.
	e.Add(span(instI, 1, 10, 250))
	st := e.Stats()
	assert.Equal(t, uint64(2), st.LateDropped)
	assert.Equal(t, uint64(1), st.LateClipped)

	e.Flush()
	checkSeries(t, col.series(instI), []want{
		{tickMS: 800, instant: 0, mean: 0.5, completions: 1, latCount: 1, latMinMS: 100, latMaxMS: 100, latMS: 100},
	})
	checkSeries(t, col.series(instJ), []want{
		{tickMS: 800}, // J arrives exactly at the end of the tick: in the next one
		{tickMS: 900, instant: 1, mean: 1, arrivals: 1},
		{tickMS: 1000, completions: 1, latCount: 1, latMinMS: 100, latMaxMS: 100, latMS: 100},
	})
}

func TestEngineWeightsAndReportedQueues(t *testing.T) {
	var col collector
	e := newTestEngine(t, time.Second, &col)
	s1 := span(instI, 1, 0, 100)
	s1.Weight = 4 // sampled with probability 1/4
	s1.Reported = 3
	s1.NIC = 10
	s2 := span(instI, 2, 50, 150)
	s2.Reported = 5
	e.Add(s1)
	e.Add(s2)
	e.Flush()
	got := col.series(instI)[0]
	assert.InDelta(t, 5.0, got.Arrivals, 1e-9)
	assert.Zero(t, got.Completions)
	assert.InDelta(t, 4.0+0.5, got.MeanDepth, 1e-9)
	assert.InDelta(t, 5.0, got.InstantDepth, 1e-9, "outstanding just before the tick's end: both, s1 weighing 4")
	assert.InDelta(t, 4.0, got.ReportedDepth, 1e-9)
	assert.InDelta(t, 4.0, got.Depth, 1e-9, "reported depth wins where present")
	assert.InDelta(t, 10.0, got.NICDepth, 1e-9)
	assert.Equal(t, SourceSpans|SourceReported|SourceNIC, got.Sources)
	next := col.series(instI)[100]
	assert.InDelta(t, 5.0, next.Completions, 1e-9)
	assert.InDelta(t, 0.5, next.MeanDepth, 1e-9)
	assert.True(t, math.IsNaN(next.ReportedDepth))
	assert.InDelta(t, 0.5, next.Depth, 1e-9, "derived depth without reports")
	assert.Equal(t, 100*time.Millisecond, next.Latency.Mean())
}

func TestEngineCapsAndExpiry(t *testing.T) {
	var col collector
	e, err := NewEngine(EngineConfig{Tick: 100 * time.Millisecond, AllowedLateness: 0,
		Expiry: time.Second, MaxServices: 2, MaxInstances: 3}, col.emit)
	require.NoError(t, err)
	id := byte(0)
	add := func(svc, inst string, startMS, endMS int64) {
		id++
		e.Add(span(Key{svc, inst}, id, startMS, endMS))
	}
	add("a", "1", 0, 10)
	add("a", "2", 0, 10)
	add("b", "1", 0, 10)
	add("b", "2", 0, 10) // instance cap
	add("c", "1", 0, 10) // service cap
	add("a", "3", 0, 10) // instance cap
	st := e.Stats()
	assert.Equal(t, uint64(2), st.OverflowInstanceSpans)
	assert.Equal(t, uint64(1), st.OverflowServiceSpans)
	svcs, insts := e.Counts()
	assert.Equal(t, 3, svcs, "a, b and the overflow service")
	assert.Equal(t, 6, insts, "3 real and 3 overflow series")

	// Only a/1 stays active; the others expire one second after their last span.
	for t0 := int64(100); t0 <= 1500; t0 += 100 {
		add("a", "1", t0, t0+10)
	}
	svcs, insts = e.Counts()
	assert.Equal(t, 1, svcs)
	assert.Equal(t, 1, insts)
	assert.Equal(t, uint64(5), e.Stats().Expired)
	var expired []Key
	for _, b := range col.batches {
		expired = append(expired, b.Expired...)
	}
	sort.Slice(expired, func(i, j int) bool {
		return expired[i].Service+expired[i].Instance < expired[j].Service+expired[j].Instance
	})
	assert.Equal(t, []Key{{OverflowService, OverflowInstance}, {"a", "2"}, {"a", OverflowInstance}, {"b", "1"}, {"b", OverflowInstance}}, expired)
}

func TestEngineGapSkipsEmptyTicks(t *testing.T) {
	var col collector
	e := newTestEngine(t, 200*time.Millisecond, &col)
	e.Add(span(instI, 1, 0, 50))
	e.Add(span(instI, 2, 3_600_000, 3_600_050)) // an hour later
	st := e.Stats()
	assert.Positive(t, st.SkippedTicks)
	// Ticks -2 (watermark of the first span, 50-200 ms) to 35997 are final.
	assert.Equal(t, uint64(35998-(-2)), st.Ticks+st.SkippedTicks)
	assert.LessOrEqual(t, len(col.batches), 4)
}

func TestEngineInvalid(t *testing.T) {
	var col collector
	e := newTestEngine(t, time.Second, &col)
	e.Add(span(instI, 1, 100, 50))
	s := span(instI, 2, 0, 50)
	s.Weight = 0
	e.Add(s)
	unset := span(instI, 3, 0, 50) // start time unset (1970), two hours before its end
	unset.Start, unset.End = 0, int64(2*MaxSpanDuration)
	e.Add(unset)
	call := span(instI, 4, 0, 50)
	call.Client, call.Start = true, call.End-int64(2*MaxSpanDuration)
	e.Add(call)
	assert.Equal(t, uint64(3), e.Stats().Invalid)
	assert.Equal(t, uint64(1), e.Stats().CallsInvalid)
	assert.Zero(t, e.Stats().Accepted)
}

// TestLatencySumSaturates: a latency sum past the range of a Duration
// (huge sampling weights) saturates instead of wrapping negative.
func TestLatencySumSaturates(t *testing.T) {
	var a LatencyAcc
	a.Add(int64(50*time.Minute), 1e12)
	l := a.Latency()
	assert.Equal(t, time.Duration(math.MaxInt64), l.Sum)
	assert.Positive(t, l.Mean())
}

func TestEngineConfigValidate(t *testing.T) {
	_, err := NewEngine(EngineConfig{}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tick must be positive")
	assert.Contains(t, err.Error(), "max_services")
}

// Keys of sequential and byte-swapped IDs must not collide.
func TestSpanKeyDoesNotCollide(t *testing.T) {
	seen := map[uint64]bool{}
	for n := range uint64(200_000) {
		var tr [16]byte
		var sp [8]byte
		// Big-endian small integers, as simple tracers and the tests make.
		for i := range 8 {
			tr[15-i] = byte(n >> (8 * i))
			sp[7-i] = byte(n >> (8 * i))
		}
		k := spanKey(tr, sp)
		sp[7] ^= 1 // another span of the same trace
		k2 := spanKey(tr, sp)
		if seen[k] || seen[k2] || k == k2 {
			t.Fatalf("collision at %d", n)
		}
		seen[k], seen[k2] = true, true
	}
}

// TestEngineDepthReturnsToZero: once every span of an instance has ended
// its depths are exactly 0 and it expires, whatever rounding the sums of
// fractional sampling weights left (1e8 + 0.1 - 1e8 - 0.1 is 1.5e-9).
func TestEngineDepthReturnsToZero(t *testing.T) {
	var col collector
	e := newTestEngine(t, time.Second, &col)
	big := span(instI, 1, 0, 300)
	big.Weight = 1e8
	small := span(instI, 2, 150, 450)
	small.Weight = 0.1
	small.TraceID = [16]byte{2}
	e.Add(big)
	e.Add(small)
	for k := int64(1); k <= 150; k++ { // another instance moves the clock 15 s on
		s := span(instJ, byte(k), 300+k*100, 300+k*100+1)
		s.TraceID = [16]byte{3, byte(k)}
		e.Add(s)
	}
	expired := false
	for _, b := range col.batches {
		for _, s := range b.Samples {
			if s.Key == instI && b.Start.UnixNano() >= 500*ms {
				require.Zero(t, s.InstantDepth, "tick %v", b.Start)
				require.Zero(t, s.MeanDepth, "tick %v", b.Start)
			}
		}
		expired = expired || slices.Contains(b.Expired, instI)
	}
	assert.True(t, expired, "the instance never expired")
}

// TestEngineDepthBalance: with spans starting and ending on tick
// boundaries and between them, every tick's instant depth is the last one
// plus its arrivals less its completions.
func TestEngineDepthBalance(t *testing.T) {
	var col collector
	e := newTestEngine(t, 10*time.Second, &col)
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range 200 {
		start := int64(rng.IntN(100)) * 10 // ms; every tenth on a boundary
		s := span(instI, byte(i), start, start+int64(rng.IntN(60))*10)
		s.TraceID = [16]byte{byte(i), 7}
		e.Add(s)
	}
	e.Flush()
	got := col.series(instI)
	prev := 0.0
	for k := int64(0); k <= 16; k++ {
		s := got[k*100]
		require.InDelta(t, prev+s.Arrivals-s.Completions, s.InstantDepth, 1e-9, "tick %d ms", k*100)
		prev = s.InstantDepth
	}
	require.Zero(t, prev, "every span ended")
}
