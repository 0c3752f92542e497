package predictor

import (
	"slices"
	"testing"

	"github.com/seer-qos/seer/dataset"
)

// constDetection scores every tick with base, and the ticks in [from, to)
// with hot.
func constDetection(tr *Trace, base, hot []float32, from, to int) *Detection {
	d := &Detection{Alarm: make([]bool, tr.Ticks), Score: make([][]float32, tr.Ticks)}
	for t := range tr.Ticks {
		d.Score[t] = base
		if t >= from && t < to {
			d.Score[t] = hot
		}
	}
	return d
}

func TestRankFaults(t *testing.T) {
	svcs := []string{"a", "b", "c"}
	// One fault on c injected at tick 42 (synthTrace puts it 8 ticks
	// before the violation): the window (4.2 s, 5.2 s] is ticks 42..51.
	mk := func() *Trace { return synthTrace(100, svcs, "c", [][2]int{{50, 60}}) }
	cfg := FaultRankConfig{WindowNs: 10 * tick, FirstTick: 5}
	flat := []float32{0.1, 0.1, 0.1}
	tests := []struct {
		name      string
		det       func(*Trace) *Detection
		cfg       FaultRankConfig
		wantRank  int // 0: no fault ranked
		wantSkip  int
		wantTop1s int
	}{
		{"culprit first", func(tr *Trace) *Detection { return constDetection(tr, flat, []float32{0.1, 0.2, 0.9}, 42, 52) }, cfg, 1, 0, 1},
		{"culprit second", func(tr *Trace) *Detection { return constDetection(tr, flat, []float32{0.1, 0.95, 0.9}, 42, 52) }, cfg, 2, 0, 0},
		{"ties rank the culprit last", func(tr *Trace) *Detection { return constDetection(tr, flat, flat, 0, 0) }, cfg, 3, 0, 0},
		// High only before injection and after the window: not seen.
		{"outside the window", func(tr *Trace) *Detection {
			d := constDetection(tr, flat, []float32{0, 0, 0.9}, 30, 42)
			for t := 52; t < 60; t++ {
				d.Score[t] = []float32{0, 0, 0.9}
			}
			for t := 42; t < 52; t++ {
				d.Score[t] = []float32{0.5, 0, 0.4}
			}
			return d
		}, cfg, 2, 0, 0},
		// Mean over the window: one tick with c on top does not outweigh nine.
		{"mean over the window", func(tr *Trace) *Detection {
			d := constDetection(tr, flat, []float32{0.1, 0.5, 0.2}, 42, 52)
			d.Score[42] = []float32{0, 0, 1}
			return d
		}, cfg, 2, 0, 0},
		{"kind not ranked", func(tr *Trace) *Detection { return constDetection(tr, flat, flat, 0, 0) },
			FaultRankConfig{Kinds: []string{"network_delay"}, WindowNs: 10 * tick, FirstTick: 5}, 0, 0, 0},
		{"no scored tick", func(tr *Trace) *Detection { return constDetection(tr, flat, flat, 0, 0) },
			FaultRankConfig{WindowNs: 10 * tick, FirstTick: 60}, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := mk()
			r := RankFaults([]*Trace{tr}, []*Detection{tt.det(tr)}, nil, tt.cfg)
			if r.Skipped != tt.wantSkip {
				t.Errorf("skipped %d, want %d", r.Skipped, tt.wantSkip)
			}
			if tt.wantRank == 0 {
				if r.Seer.Faults != 0 {
					t.Errorf("ranked %d faults, want none: %+v", r.Seer.Faults, r.Seer.Ranks)
				}
				return
			}
			if r.Seer.Faults != 1 || r.Seer.Ranks[0].Rank != tt.wantRank {
				t.Fatalf("ranks %+v, want one fault at rank %d", r.Seer.Ranks, tt.wantRank)
			}
			if r.Seer.Top1 != tt.wantTop1s || r.Seer.Top3 != 1 || r.Seer.ByType["cpu"].Faults != 1 {
				t.Errorf("top1 %d top3 %d by type %v", r.Seer.Top1, r.Seer.Top3, r.Seer.ByType)
			}
		})
	}
}

// TestRankFaultsBySourceType: faults are broken down by the source's type
// where the dataset has one (a replay), by kind otherwise.
func TestRankFaultsBySourceType(t *testing.T) {
	tr := synthTrace(100, []string{"a", "b"}, "b", [][2]int{{50, 60}})
	tr.Faults[0].SourceType = "cpu_contention"
	r := RankFaults([]*Trace{tr}, []*Detection{constDetection(tr, []float32{0, 1}, []float32{0, 1}, 0, 0)}, nil,
		FaultRankConfig{WindowNs: 10 * tick})
	if got := r.Seer.ByType["cpu_contention"]; got == nil || got.Faults != 1 || len(r.Seer.ByType) != 1 || r.Seer.Ranks[0].Type != "cpu_contention" {
		t.Errorf("by type %v, ranks %+v: want the one fault under cpu_contention", r.Seer.ByType, r.Seer.Ranks)
	}
}

func TestRankFaultsUnknownService(t *testing.T) {
	tr := synthTrace(100, []string{"a", "b"}, "b", [][2]int{{50, 60}})
	tr.Faults[0].Service = "gone"
	r := RankFaults([]*Trace{tr}, []*Detection{constDetection(tr, []float32{0, 1}, []float32{0, 1}, 0, 0)}, nil,
		FaultRankConfig{WindowNs: 10 * tick})
	if r.Seer.Faults != 1 || r.Seer.Top3 != 0 || r.Seer.Ranks[0].Rank != 0 {
		t.Errorf("a service without series ranked %+v, want a miss", r.Seer)
	}
}

// The queue-depth baseline sees the synthetic culprit's ramp; utilization
// (no topology, no worker counts), network time and failed calls (none in
// the synthetic traces: zero thresholds) score everything 0 and so rank
// last.
func TestRankFaultsBaselines(t *testing.T) {
	svcs := []string{"a", "b", "c", "d"}
	train := synthTrace(300, svcs, "d", [][2]int{{100, 130}, {200, 230}})
	test := synthTrace(200, svcs, "b", [][2]int{{100, 130}})
	b := CalibrateBaselines([]*Trace{train}, 20*tick, 15, 0.05)
	seer := constDetection(test, []float32{0, 0, 0, 0}, []float32{0, 0, 0, 0}, 0, 0)
	r := RankFaults([]*Trace{test}, []*Detection{seer}, b, FaultRankConfig{WindowNs: 10 * tick, FirstTick: 15})
	want := map[string]int{BaselineQueueDepth: 1, BaselineLatency: 1, BaselineUtilization: len(svcs), BaselineNetwork: len(svcs), BaselineFailed: len(svcs)}
	for name, rank := range want {
		m := r.Baselines[name]
		if m == nil || m.Faults != 1 || m.Ranks[0].Rank != rank {
			t.Errorf("%s: %+v, want rank %d", name, m, rank)
		}
	}
	if _, ok := r.Baselines[BaselineReactive]; ok {
		t.Error("the reactive baseline ranked faults without violations")
	}
}

func TestLabelFaults(t *testing.T) {
	tr := &Trace{Dir: "f", Services: []string{"a", "b"}, TickNs: tick, Ticks: 50,
		raw: make([]float32, 50*2*numRaw),
		Faults: []dataset.Fault{
			{ID: "late", Kind: "network_delay", Service: "b", StartNs: 30 * tick, DurationNs: 5 * tick},
			{ID: "early", Kind: "cpu", Service: "a", StartNs: 10 * tick, DurationNs: 5 * tick},
			{ID: "code", Kind: "code_error", Service: "b", StartNs: 20 * tick, DurationNs: 5 * tick},
		},
		Violations: []dataset.Violation{{StartNs: 0, EndNs: 50 * tick}}}
	if n := LabelFaults([]*Trace{tr}, []string{"cpu", "network_delay"}); n != 2 {
		t.Fatalf("made %d labels, want 2", n)
	}
	l := tr.Labels(3 * tick)
	for tk := range tr.Ticks {
		end := tr.TickEndNs(tk)
		var want []string
		if 10*tick <= end+3*tick && end < 15*tick {
			want = []string{"a"}
		}
		if 30*tick <= end+3*tick && end < 35*tick {
			want = []string{"b"}
		}
		if l.Violation[tk] != (want != nil) || !slices.Equal(l.Culprit[tk], want) {
			t.Errorf("tick %d: violation %v culprits %v, want %v", tk, l.Violation[tk], l.Culprit[tk], want)
		}
	}
}
