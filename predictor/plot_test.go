package predictor

import (
	"bytes"
	"image/png"
	"math"
	"slices"
	"testing"

	"github.com/seer-qos/seer/dataset"
)

// synthPredictions gives every tick after the first window a culprit and
// a violation probability that rise with the service's depth.
func synthPredictions(tr *Trace, window int) *Predictions {
	p := &Predictions{Services: tr.Services, Probs: make([][]float32, tr.Ticks)}
	for t := range tr.Ticks {
		p.Probs[t] = make([]float32, len(tr.Services)+1)
		if t < window-1 {
			continue
		}
		for s := range tr.Services {
			d := tr.Raw(t, s, rawDepth)
			p.Probs[t][s] = d / (d + 20)
			p.Probs[t][len(tr.Services)] = max(p.Probs[t][len(tr.Services)], d/(d+40))
		}
	}
	return p
}

func TestPlotFaultsPNG(t *testing.T) {
	svcs := []string{"a", "b", "c"}
	one := synthTrace(200, svcs, "b", [][2]int{{60, 90}})
	three := synthTrace(400, svcs, "c", [][2]int{{60, 80}, {180, 200}, {300, 330}})
	for _, tr := range []*Trace{one, three} {
		for i := range tr.Faults {
			tr.Faults[i].DurationNs = 3e9
		}
	}
	nw := synthTrace(200, svcs, "a", [][2]int{{60, 90}})
	nw.Faults[0].Kind = "network_delay"
	unknown := synthTrace(200, svcs, "b", [][2]int{{60, 90}})
	unknown.Faults[0].Service = "not-in-model"
	qos := []dataset.QoSPoint{{EndNs: 70 * tick, RequestType: "r", P99Ns: 30, TargetNs: 10},
		{EndNs: 70 * tick, RequestType: "s", P99Ns: 5, TargetNs: 10}}
	tests := []struct {
		name       string
		traces     []*Trace
		qos        [][]dataset.QoSPoint
		maxPanels  int
		kinds      []string
		wantPanels int
		wantFaults int
	}{
		{"one fault", []*Trace{one}, [][]dataset.QoSPoint{qos}, 0, nil, 1, 1},
		{"faults of two traces", []*Trace{one, three}, nil, 0, nil, 4, 4},
		{"capped", []*Trace{one, three}, nil, 2, nil, 2, 4},
		{"culprit unknown to the model", []*Trace{unknown}, nil, 0, nil, 1, 1},
		{"kinds", []*Trace{one, nw}, nil, 0, []string{"network_delay"}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			preds := make([]*Predictions, len(tt.traces))
			for i, tr := range tt.traces {
				preds[i] = synthPredictions(tr, 16)
			}
			o := PlotOptions{Threshold: 0.4, MaxPanels: tt.maxPanels, Kinds: tt.kinds, WidthPx: 640, PanelHeightPx: 200}
			var buf bytes.Buffer
			res, err := PlotFaults(&buf, tt.traces, preds, tt.qos, o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Panels != tt.wantPanels || res.Faults != tt.wantFaults {
				t.Errorf("drew %d panels of %d faults, want %d of %d", res.Panels, res.Faults, tt.wantPanels, tt.wantFaults)
			}
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 200*tt.wantPanels {
				t.Errorf("PNG is %dx%d, want 640x%d", b.Dx(), b.Dy(), 200*tt.wantPanels)
			}
		})
	}
}

func TestPlotFaultsErrors(t *testing.T) {
	none := synthTrace(100, []string{"a"}, "a", nil)
	if _, err := PlotFaults(&bytes.Buffer{}, []*Trace{none}, []*Predictions{synthPredictions(none, 16)}, nil, PlotOptions{}); err == nil {
		t.Error("a trace without faults plotted without error")
	}
	one := synthTrace(100, []string{"a"}, "a", [][2]int{{50, 60}})
	if _, err := PlotFaults(&bytes.Buffer{}, []*Trace{one}, nil, nil, PlotOptions{}); err == nil {
		t.Error("missing predictions plotted without error")
	}
}

func TestWorstP99Ratio(t *testing.T) {
	q := []dataset.QoSPoint{
		{EndNs: 1e9, RequestType: "r", P99Ns: 20, TargetNs: 10},
		{EndNs: 1e9, RequestType: "s", P99Ns: 22, TargetNs: 10},
		{EndNs: 2e9, RequestType: "r", P99Ns: 5, TargetNs: 10},
		{EndNs: 2e9, RequestType: "s", P99Ns: 100, TargetNs: 0}, // no target: ignored
		{EndNs: 3e9, RequestType: "r", P99Ns: 500, TargetNs: 10},
		{EndNs: 9e9, RequestType: "r", P99Ns: 5, TargetNs: 10}, // outside [lo, hi]
	}
	got := worstP99Ratio(q, 0, 5e9, 1e9)
	want := [][2]float64{{0, 2.2}, {1, 0.5}, {2, plotRatioCap}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i, w := range want {
		if math.Abs(got[i].X-w[0]) > 1e-9 || math.Abs(got[i].Y-w[1]) > 1e-9 {
			t.Errorf("point %d = %v, want %v", i, got[i], w)
		}
	}
}

func TestSecondsTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		{-30, 30, []string{"-30", "-25", "-20", "-15", "-10", "-5", "0", "5", "10", "15", "20", "25", "30"}},
		{-30, 90, []string{"-30", "-20", "-10", "0", "10", "20", "30", "40", "50", "60", "70", "80", "90"}},
		{-3, 400, []string{"0", "60", "120", "180", "240", "300", "360"}},
	}
	for _, tt := range tests {
		var got []string
		for _, tk := range (secondsTicks{}).Ticks(tt.lo, tt.hi) {
			got = append(got, tk.Label)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ticks of [%v, %v] = %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
	}
}
