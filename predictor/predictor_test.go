package predictor

import (
	"context"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seer-qos/seer/dataset"
)

const tick = int64(100e6)

// synthTrace builds a trace of n ticks over services whose depth of
// service culprit ramps up before each violation (start, end in ticks).
func synthTrace(n int, services []string, culprit string, viol [][2]int) *Trace {
	tr := &Trace{Dir: "synth", Services: services, TickNs: tick, StartNs: 0, Ticks: n,
		raw: make([]float32, n*len(services)*numRaw)}
	c := slices.Index(services, culprit)
	for i, v := range viol {
		id := string(rune('a' + i))
		tr.Faults = append(tr.Faults, dataset.Fault{ID: id, Kind: "cpu", Service: culprit, StartNs: int64(v[0]-8) * tick})
		tr.Violations = append(tr.Violations, dataset.Violation{StartNs: int64(v[0]) * tick, EndNs: int64(v[1]) * tick,
			FaultIDs: []string{id}, Culprits: []dataset.SeriesKey{{Service: culprit}}, Cause: "fault"})
	}
	for t := range n {
		for s := range services {
			d := float32(1 + (t*7+s*3)%3)
			for _, v := range viol {
				if s == c && t >= v[0]-8 && t < v[1] {
					d += float32(10 * (t - v[0] + 9))
				}
			}
			tr.raw[(t*len(services)+s)*numRaw+rawDepth] = d
			tr.raw[(t*len(services)+s)*numRaw+rawLatency] = d
		}
	}
	return tr
}

func TestEpisodesMergeOverlaps(t *testing.T) {
	tests := []struct {
		name string
		viol []dataset.Violation
		want []Episode
	}{
		{"none", nil, nil},
		{"overlap", []dataset.Violation{
			{StartNs: 10, EndNs: 20, Culprits: []dataset.SeriesKey{{Service: "b"}}},
			{StartNs: 15, EndNs: 30, Culprits: []dataset.SeriesKey{{Service: "a"}}}},
			[]Episode{{StartNs: 10, EndNs: 30, Culprits: []string{"a", "b"}, Kinds: []string{"unknown"}}}},
		{"disjoint", []dataset.Violation{{StartNs: 10, EndNs: 20}, {StartNs: 21, EndNs: 30}},
			[]Episode{{StartNs: 10, EndNs: 20, Kinds: []string{"unknown"}}, {StartNs: 21, EndNs: 30, Kinds: []string{"unknown"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := (&Trace{Violations: tt.viol}).Episodes()
			if len(got) != len(tt.want) {
				t.Fatalf("got %d episodes %+v, want %+v", len(got), got, tt.want)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.StartNs != w.StartNs || g.EndNs != w.EndNs || !slices.Equal(g.Culprits, w.Culprits) || !slices.Equal(g.Kinds, w.Kinds) {
					t.Errorf("episode %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestLabelsHorizon(t *testing.T) {
	tr := synthTrace(40, []string{"a", "b"}, "b", [][2]int{{20, 25}})
	l := tr.Labels(3 * tick)
	for tk := range tr.Ticks {
		end := tr.TickEndNs(tk)
		want := 20*tick <= end+3*tick && end < 25*tick
		if l.Violation[tk] != want {
			t.Errorf("tick %d: violation label %v, want %v", tk, l.Violation[tk], want)
		}
		if ahead := want && end < 20*tick; l.Ahead[tk] != ahead {
			t.Errorf("tick %d: ahead %v, want %v", tk, l.Ahead[tk], ahead)
		}
		if want != slices.Equal(l.Culprit[tk], []string{"b"}) {
			t.Errorf("tick %d: culprits %v", tk, l.Culprit[tk])
		}
	}
}

func TestMetricsDefinitions(t *testing.T) {
	tr := synthTrace(60, []string{"a", "b", "c"}, "c", [][2]int{{30, 35}})
	cfg := EvalConfig{HorizonNs: 5 * tick, MinLeadNs: tick, FirstTick: 5}
	mk := func(alarms ...int) *Detection {
		d := &Detection{Alarm: make([]bool, tr.Ticks), Score: make([][]float32, tr.Ticks)}
		for tk := range tr.Ticks {
			d.Score[tk] = []float32{0.1, 0.5, 0.3} // c second... b first
		}
		for _, a := range alarms {
			d.Alarm[a] = true
			d.Score[a] = []float32{0.1, 0.2, 0.9}
		}
		return d
	}
	tests := []struct {
		name                         string
		det                          *Detection
		anticipated, standing        int
		leadMs, fpr, precision, top1 float64
	}{
		// Tick 26 ends at 2.7 s, onset 3.0 s: 300 ms lead; withdrawn by
		// tick 28, the last ending at least 100 ms before onset: not standing.
		{"warned early", mk(26), 1, 0, 300, 0, 1, 1},
		{"warned early, still standing", mk(26, 27, 28), 1, 1, 300, 0, 1, 1},
		// Tick 29 ends at onset: no lead; culprit ranked at tick 28 (b first).
		{"too late", mk(29), 0, 0, 0, 0, 1, 0},
		// Tick 10 is no violation within the horizon: a false positive.
		{"false alarm", mk(10, 27), 1, 0, 200, 1.0 / 45, 0.5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Metrics{}
			m.score(tr, tt.det, cfg)
			m.finish()
			if m.Violations != 1 || m.Anticipated != tt.anticipated || m.Standing != tt.standing || m.RecallStanding != float64(tt.standing) || math.Abs(m.LeadMsP50-tt.leadMs) > 1e-6 ||
				math.Abs(m.FalsePositiveRate-tt.fpr) > 1e-9 || m.Precision != tt.precision || m.CulpritTop1 != tt.top1 {
				t.Errorf("got %+v", m)
			}
		})
	}
}

func TestModelRoundTrip(t *testing.T) {
	s := Shape{Services: 2, Features: 1, Window: 5, Kernel: 3, Channels: 2, Hidden: 3}
	p, err := NewParams(s, 3)
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Params: p, Baselines: &Baselines{}, Card: Card{Format: ModelFormat, Shape: s, Threshold: 0.4, TickMs: 100, HorizonMs: 2000,
		Features:  FeatureSet{Services: []string{"a", "b"}, Features: []string{"depth"}, Norms: [][]Norm{{{1, 2}}, {{3, 4}}}},
		CallGraph: []dataset.Edge{{Caller: "b", Callee: "a"}}}}
	path := filepath.Join(t.TempDir(), "m")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Tensors {
		if !slices.Equal(got.Params.Tensors[i], p.Tensors[i]) {
			t.Fatalf("tensor %s differs", paramNames[i])
		}
	}
	if got.Card.Threshold != 0.4 || got.Card.Features.Norms[1][0] != (Norm{3, 4}) {
		t.Fatalf("card differs: %+v", got.Card)
	}
	if e := got.Params.Graph.Edges(got.Card.Features.Services); !slices.Equal(e, m.Card.CallGraph) {
		t.Fatalf("call graph = %v, want %v", e, m.Card.CallGraph)
	}
}

func TestIm2colLayout(t *testing.T) {
	s := Shape{Services: 2, Features: 1, Window: 4, Kernel: 3, Channels: 1, Hidden: 1}
	m := &Matrix{Ticks: 5, Services: 2, Features: 1, V: []float32{0, 10, 1, 11, 2, 12, 3, 13, 4, 14}}
	got := m.Im2col(nil, s, 4) // ticks 1..4, steps 0..1
	want := []float32{1, 2, 3, 11, 12, 13, 2, 3, 4, 12, 13, 14}
	if !slices.Equal(got, want) {
		t.Fatalf("im2col = %v, want %v", got, want)
	}
}

// TestTrainLearnsSynthetic trains a tiny model on simplego on traces where
// the culprit's queue grows before each violation, and checks that it
// anticipates held-out violations and names the culprit.
// With ema, the model keeps the moving average of the weights.
func TestTrainLearnsSynthetic(t *testing.T) {
	services := []string{"a", "b", "c", "d"}
	var traces []*Trace
	for i := range 6 {
		c := services[i%len(services)]
		traces = append(traces, synthTrace(160, services, c, [][2]int{{40 + 5*i, 50 + 5*i}, {110, 120}}))
	}
	for _, ema := range []float64{0, 0.9} {
		t.Run(fmt.Sprintf("ema %v", ema), func(t *testing.T) {
			cfg := DefaultTrainConfig()
			cfg.Features = []string{"depth"}
			cfg.Window, cfg.Hidden, cfg.Channels, cfg.Batch = 8, 8, 4, 16
			cfg.HorizonNs, cfg.Stride, cfg.Epochs, cfg.Patience, cfg.LR, cfg.ValFrac = 5*tick, 1, 12, 12, 1e-2, 0.34
			cfg.EMA = ema
			m, err := Train(context.Background(), traces, cfg)
			if err != nil {
				t.Fatal(err)
			}
			v := m.Card.Validation
			t.Logf("validation: %+v", v.Metrics)
			if m.Card.Train.ValLoss > 0.5 || v.Recall < 0.5 || v.CulpritTop1 < 0.5 {
				t.Fatalf("did not learn: val loss %v, recall %v, top1 %v", m.Card.Train.ValLoss, v.Recall, v.CulpritTop1)
			}
			if m.Card.Train.EMA != ema {
				t.Errorf("card ema %v, want %v", m.Card.Train.EMA, ema)
			}
		})
	}
}

func TestParamsBlend(t *testing.T) {
	p := &Params{Tensors: [][]float32{{1, 2}, {3}}}
	q := &Params{Tensors: [][]float32{{3, 0}, {-1}}}
	p.blend(q, 0.75)
	want := [][]float32{{1.5, 1.5}, {2}}
	for i := range want {
		for j := range want[i] {
			if d := p.Tensors[i][j] - want[i][j]; d > 1e-6 || d < -1e-6 {
				t.Errorf("tensor %d[%d] = %v, want %v", i, j, p.Tensors[i][j], want[i][j])
			}
		}
	}
	if q.Tensors[0][0] != 3 {
		t.Error("blend changed its source")
	}
}

// TestFillLabels checks the labels and loss weights of violation ticks:
// with a known culprit, the culprit target is that service and the culprit
// term is trained; without one (natural variability, or live history whose
// culprits are unknown) only the violation term is.
func TestFillLabels(t *testing.T) {
	services := []string{"a", "b", "c"}
	known := synthTrace(40, services, "b", [][2]int{{20, 25}})
	unknown := synthTrace(40, services, "b", [][2]int{{20, 25}})
	unknown.Violations[0].Culprits = nil
	s := Shape{Services: 3, Features: 1, Window: 4, Kernel: 3, Channels: 1, Hidden: 1}
	fs, err := FitFeatures([]*Trace{known}, []string{"depth"})
	if err != nil {
		t.Fatal(err)
	}
	b := &batcher{shape: s, services: services, posWeight: 4, layout: &inputLayout{shape: s}}
	for _, tr := range []*Trace{known, unknown} {
		m, err := fs.Normalize(tr)
		if err != nil {
			t.Fatal(err)
		}
		b.mats, b.labels = append(b.mats, m), append(b.labels, tr.Labels(3*tick))
	}
	// Tick 18 ends 0.1 s before the onset at 2.0 s, tick 21 during the
	// episode; tick 5 is quiet.
	_, y, wt := b.fill([]sample{{0, 18}, {1, 18}, {0, 21}, {0, 5}}, nil, nil, nil)
	if want := []float32{0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0}; !slices.Equal(y, want) {
		t.Errorf("labels %v, want %v", y, want)
	}
	if want := []float32{1, 1, 1, 4 * aheadWeight, 0, 0, 0, 4 * aheadWeight, 1, 1, 1, 4, 0, 0, 0, 1}; !slices.Equal(wt, want) {
		t.Errorf("weights %v, want %v", wt, want)
	}
}

// TestMatchFPR checks that Seer is scored at the lowest threshold whose
// false-positive rate is at most each baseline's, and that the reactive
// baseline (0 by construction) is left out.
func TestMatchFPR(t *testing.T) {
	tr := synthTrace(60, []string{"a", "b", "c"}, "c", [][2]int{{30, 35}})
	cfg := EvalConfig{HorizonNs: 5 * tick, MinLeadNs: tick, FirstTick: 5}
	p := &Predictions{Services: tr.Services, Probs: make([][]float32, tr.Ticks)}
	for tk := range p.Probs {
		v := float32(0.1)
		switch {
		case tk >= 26 && tk <= 28: // before onset: positive ticks
			v = 0.9
		case tk == 10: // negative ticks
			v = 0.7
		case tk == 12:
			v = 0.5
		}
		p.Probs[tk] = []float32{0.1, 0.2, 0.6, v}
	}
	baselines := map[string]*Metrics{
		BaselineLatency:    {FalsePositiveRate: 1.0 / 45}, // one false alarm of 45 negative ticks
		BaselineNetwork:    {FalsePositiveRate: 0},
		BaselineQueueDepth: {FalsePositiveRate: 0.5}, // both
		BaselineReactive:   {},
	}
	got := MatchFPR([]*Trace{tr}, []*Predictions{p}, baselines, cfg)
	if _, ok := got[BaselineReactive]; ok || len(got) != 3 {
		t.Fatalf("matched %v, want the three threshold baselines", slices.Collect(maps.Keys(got)))
	}
	tests := []struct {
		name   string
		lo, hi float64 // the threshold's range
		fpr    float64
	}{
		{BaselineLatency, 0.5, 0.5 + 1e-5, 1.0 / 45},
		{BaselineNetwork, float64(float32(0.7)), 0.7 + 1e-5, 0}, // above the probability as served
		{BaselineQueueDepth, float64(float32(0.1)), 0.1 + 1e-5, 2.0 / 45},
	}
	for _, tt := range tests {
		m := got[tt.name]
		if !(m.Threshold > tt.lo && m.Threshold <= tt.hi) || math.Abs(m.FalsePositiveRate-tt.fpr) > 1e-9 || m.Recall != 1 || m.CulpritTop1 != 1 {
			t.Errorf("%s: threshold %v, fpr %v, recall %v, top1 %v; want threshold in (%v, %v], fpr %v, recall 1, top1 1",
				tt.name, m.Threshold, m.FalsePositiveRate, m.Recall, m.CulpritTop1, tt.lo, tt.hi, tt.fpr)
		}
	}
}

func TestAveragePredictions(t *testing.T) {
	a := []*Predictions{{Services: []string{"x", "y"}, Probs: [][]float32{{0.2, 0.4, 0.6}, {0, 0, 0}}}}
	b := []*Predictions{{Services: []string{"x", "y"}, Probs: [][]float32{{0.4, 0.0, 0.4}, {0.2, 0.2, 1}}}}
	got, err := AveragePredictions([][]*Predictions{a, b})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{{0.3, 0.2, 0.5}, {0.1, 0.1, 0.5}}
	for tk, row := range got[0].Probs {
		for s, v := range row {
			if math.Abs(float64(v-want[tk][s])) > 1e-6 {
				t.Errorf("tick %d, output %d: %v, want %v", tk, s, v, want[tk][s])
			}
		}
	}
	if a[0].Probs[0][0] != 0.2 {
		t.Error("the first model's predictions were changed")
	}
	other := []*Predictions{{Services: []string{"y", "x"}, Probs: b[0].Probs}}
	if _, err := AveragePredictions([][]*Predictions{a, other}); err == nil || !strings.Contains(err.Error(), "other services") {
		t.Errorf("services in another order: error %v", err)
	}
}

// TestRankHitsPessimistic: ties rank ahead of the culprit (other culprits
// aside), whatever the services' order in the trace.
func TestRankHitsPessimistic(t *testing.T) {
	tr := synthTrace(10, []string{"a", "b", "c", "d"}, "a", nil)
	tests := []struct {
		name       string
		score      []float32
		culprits   []string
		top1, top3 bool
	}{
		{"first", []float32{3, 2, 1, 0}, []string{"a"}, true, true},
		{"all tied", []float32{0, 0, 0, 0}, []string{"a"}, false, false},
		{"tied with one", []float32{2, 2, 1, 0}, []string{"a"}, false, true},
		{"tied with two", []float32{2, 2, 2, 0}, []string{"a"}, false, true},
		{"third by name, tied", []float32{1, 1, 1, 1}, []string{"c"}, false, false},
		{"two culprits tied first", []float32{2, 2, 1, 0}, []string{"a", "b"}, true, true},
		{"fourth", []float32{0, 3, 2, 1}, []string{"a"}, false, false},
		{"not in the trace", []float32{3, 2, 1, 0}, []string{"z"}, false, false},
		{"NaN", []float32{float32(math.NaN()), 0, 0, 0}, []string{"a"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if top1, top3 := rankHits(tr, tt.score, tt.culprits); top1 != tt.top1 || top3 != tt.top3 {
				t.Fatalf("got top1 %v top3 %v, want %v %v", top1, top3, tt.top1, tt.top3)
			}
		})
	}
}

// TestChooseThresholdOnGrid: negatives at exactly a grid value (0.5) beyond
// the budget: the threshold is the next grid value, not 0.5 itself (a
// warning is p >= threshold).
func TestChooseThresholdOnGrid(t *testing.T) {
	tr := synthTrace(60, []string{"a"}, "a", [][2]int{{50, 55}})
	cfg := EvalConfig{HorizonNs: 5 * tick, MinLeadNs: tick, FirstTick: 5}
	p := &Predictions{Services: tr.Services, Probs: make([][]float32, tr.Ticks)}
	for tk := range p.Probs {
		v := float32(0.1)
		if tk >= 5 && tk < 25 {
			v = 0.5
		}
		p.Probs[tk] = []float32{0, v}
	}
	th := chooseThreshold([]*Trace{tr}, []*Predictions{p}, cfg, 0.04)
	m := &Metrics{}
	m.score(tr, p.Detect(tr, th), cfg)
	m.finish()
	if th != 0.525 || m.FalsePositiveRate > 0.04 {
		t.Fatalf("threshold %v, false-positive rate %v; want 0.525 within 0.04", th, m.FalsePositiveRate)
	}
}
