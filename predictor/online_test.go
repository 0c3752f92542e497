package predictor

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/seer-qos/seer/internal/series"
)

// randomModel wraps seeded random weights with norms fitted on traces:
// agreement between serving paths holds for any weights.
func randomModel(t *testing.T, traces []*Trace, features []string, window int) *Model {
	t.Helper()
	fs, err := FitFeatures(traces, features)
	if err != nil {
		t.Fatal(err)
	}
	shape := Shape{Services: len(fs.Services), Features: len(features), Window: window, Kernel: 3, Channels: 4, Hidden: 8}
	p, err := NewParams(shape, 7)
	if err != nil {
		t.Fatal(err)
	}
	return &Model{Card: Card{Format: ModelFormat, Features: *fs, Shape: shape, TickMs: traces[0].TickNs / 1e6, HorizonMs: 2000}, Params: p}
}

// batchOf rebuilds tick t of tr as a Batch of two instances per service
// that add up to the trace's raw values.
func batchOf(tr *Trace, t int) series.Batch {
	start := time.Unix(0, tr.StartNs+int64(t)*tr.TickNs)
	b := series.Batch{Origin: series.OriginSpans, Start: start, End: start.Add(time.Duration(tr.TickNs))}
	for s, svc := range tr.Services {
		d, lat := tr.Raw(t, s, rawDepth), tr.Raw(t, s, rawLatency)
		for i, inst := range []string{"i1", "i2"} {
			x := series.Sample{Key: series.Key{Service: svc, Instance: inst}, Depth: float64(d) / 2,
				Arrivals: float64(tr.Raw(t, s, rawArrivals)), ReportedDepth: math.NaN(), NICDepth: math.NaN()}
			if i == 0 {
				x.Arrivals = 0
			}
			if lat > 0 {
				x.Latency = series.Latency{Count: 2, Sum: 2 * time.Duration(float64(lat)*1e6)}
			}
			b.Samples = append(b.Samples, x)
		}
	}
	return b
}

func TestOnlineAgreesWithPredictTrace(t *testing.T) {
	tr := synthTrace(80, []string{"a", "b", "c"}, "b", [][2]int{{40, 50}})
	// Tick 30 has no record at all: live, no batch arrives for it (a gap).
	gap := 30
	for s := range tr.Services {
		for q := range numRaw {
			tr.raw[(gap*len(tr.Services)+s)*numRaw+q] = 0
		}
	}
	// The model also knows "z", which the trace never has (normalised 0).
	other := synthTrace(10, []string{"a", "b", "c", "z"}, "z", nil)
	m := randomModel(t, []*Trace{tr, other}, []string{"depth", "latency"}, 8)
	r, on := simplegoOnline(t, m)
	want, err := m.PredictTrace(r, tr)
	if err != nil {
		t.Fatal(err)
	}
	var got []TickOutput
	for tk := range tr.Ticks {
		if tk == gap {
			continue
		}
		rt := NewRawTick(batchOf(tr, tk))
		out, err := on.Push(&rt)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, out...)
	}
	if len(got) != tr.Ticks {
		t.Fatalf("%d outputs for %d ticks", len(got), tr.Ticks)
	}
	var maxDiff float64
	for tk, g := range got {
		if g.Start.UnixNano() != tr.StartNs+int64(tk)*tr.TickNs || g.Gap != (tk == gap) || g.Ready != (tk >= m.Card.Shape.Window-1) {
			t.Fatalf("tick %d: output %+v", tk, g)
		}
		for i, p := range want.Probs[tk] {
			maxDiff = math.Max(maxDiff, math.Abs(float64(p-g.Probs[i])))
		}
	}
	t.Logf("max |online - offline| = %g", maxDiff)
	if maxDiff > 1e-6 {
		t.Fatalf("online and offline differ by %g", maxDiff)
	}
	// The outputs are not all the same (the comparison means something).
	if last := got[len(got)-1].Probs; last[0] == got[len(got)-20].Probs[0] && last[1] == got[len(got)-20].Probs[1] {
		t.Fatalf("outputs do not vary: %v", last)
	}

	old := NewRawTick(batchOf(tr, 3))
	if _, err := on.Push(&old); !errors.Is(err, ErrTickOrder) {
		t.Fatalf("an old tick gave %v, want ErrTickOrder", err)
	}
}

func TestOnlinePredictsAtMostAWindowOfGapTicks(t *testing.T) {
	tr := synthTrace(40, []string{"a", "b"}, "b", nil)
	m := randomModel(t, []*Trace{tr}, []string{"depth"}, 4)
	_, on := simplegoOnline(t, m)
	for tk := range 5 {
		rt := NewRawTick(batchOf(tr, tk))
		if err := on.Observe(&rt); err != nil {
			t.Fatal(err)
		}
	}
	rt := NewRawTick(batchOf(tr, 30)) // 25 ticks missing
	out, err := on.Push(&rt)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4+1 {
		t.Fatalf("%d outputs, want 4 gap ticks and the tick", len(out))
	}
	if out[0].Start.UnixNano() != tr.StartNs+26*tr.TickNs || !out[0].Gap || out[4].Gap || !out[4].Ready {
		t.Fatalf("outputs %+v", out)
	}
}

// TestOnlineMovesOnWhenInferenceFails: a failed inference on a gap tick
// returns the error, and the window still holds every tick up to the one
// pushed, in time, as if the model had not been run: the next tick goes on
// from there instead of counting the gap again.
func TestOnlineMovesOnWhenInferenceFails(t *testing.T) {
	tr := synthTrace(40, []string{"a", "b"}, "b", nil)
	m := randomModel(t, []*Trace{tr}, []string{"depth"}, 4)
	_, on := simplegoOnline(t, m)
	_, ref := simplegoOnline(t, m)
	other, _ := simplegoOnline(t, randomModel(t, []*Trace{synthTrace(40, []string{"a", "b", "c"}, "b", nil)}, []string{"depth"}, 4))
	for _, tk := range []int{0, 1, 2, 3, 4} {
		rt := NewRawTick(batchOf(tr, tk))
		if _, err := on.Push(&rt); err != nil {
			t.Fatal(err)
		}
		if err := ref.Observe(&rt); err != nil {
			t.Fatal(err)
		}
	}
	on.runner = other                // a runner of another shape: every inference fails from here on
	for _, tk := range []int{8, 9} { // 3 gap ticks before 8
		rt := NewRawTick(batchOf(tr, tk))
		if _, err := on.Push(&rt); err == nil {
			t.Fatalf("tick %d: no error from a closed runner", tk)
		}
		if err := ref.Observe(&rt); err != nil {
			t.Fatal(err)
		}
		if !on.next.Equal(ref.next) || !slices.Equal(on.mat.V, ref.mat.V) {
			t.Fatalf("tick %d: the window is not where the ticks put it (next %v, want %v)", tk, on.next, ref.next)
		}
	}
}

// TestHistoryRing: a full History forgets its oldest ticks and answers
// Oldest, Last and Since in time order.
func TestHistoryRing(t *testing.T) {
	h := NewHistory(3)
	if !h.Oldest().IsZero() || h.Len() != 0 {
		t.Fatalf("empty history: oldest %v, len %d", h.Oldest(), h.Len())
	}
	at := func(i int) time.Time { return time.Unix(0, int64(i)*int64(100*time.Millisecond)) }
	for i := range 5 {
		h.Add(RawTick{Start: at(i), End: at(i + 1)})
	}
	starts := func(ts []RawTick) []time.Time {
		var out []time.Time
		for _, rt := range ts {
			out = append(out, rt.Start)
		}
		return out
	}
	if h.Len() != 3 || !h.Oldest().Equal(at(2)) {
		t.Errorf("len %d, oldest %v; want 3, %v", h.Len(), h.Oldest(), at(2))
	}
	if got := starts(h.Last(2)); !slices.EqualFunc(got, []time.Time{at(3), at(4)}, time.Time.Equal) {
		t.Errorf("Last(2) = %v", got)
	}
	if got := starts(h.Since(at(3))); !slices.EqualFunc(got, []time.Time{at(3), at(4)}, time.Time.Equal) {
		t.Errorf("Since = %v", got)
	}
}

// simplegoOnline serves m on simplego; the Runner is closed with the test.
func simplegoOnline(t *testing.T, m *Model) (*Runner, *Online) {
	t.Helper()
	b, _, err := OpenBackend(BackendSimpleGo)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(b, m.Params)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	on, err := NewOnline(m, r)
	if err != nil {
		t.Fatal(err)
	}
	return r, on
}
