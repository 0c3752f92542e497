package predictor

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
)

// TestEnsembleGraphAverages checks that an ensemble's violation probability
// and per-service culprit probabilities are its members' means, on both
// backends where XLA loads.
func TestEnsembleGraphAverages(t *testing.T) {
	s := Shape{Services: 5, Features: 2, Window: 7, Kernel: 3, Channels: 3, Hidden: 4}
	ens, members := randomEnsemble(t, s, 3)
	if got := ens.Member(1); &got.Tensors[0][0] != &members[1].Tensors[0][0] || got.Shape != s {
		t.Fatalf("Member(1) is not the second member")
	}
	const batch = 2
	x := randomInput(s, batch, 7)
	eachBackend(t, func(t *testing.T, b backends.Backend) {
		var outs [][]float32
		for _, p := range members {
			outs = append(outs, predictOn(t, b, p, x, batch))
		}
		checkMembersMean(t, s, predictOn(t, b, ens, x, batch), outs)
	})
}

// randomEnsemble returns k networks of shape s with seeded random weights,
// larger than NewParams draws (members that disagree, so a wrong mean
// shows), on one call graph, and the ensemble of them.
func randomEnsemble(t *testing.T, s Shape, k int) (*Params, []*Params) {
	t.Helper()
	graph := benchCallGraph(s.Services)
	ens := &Params{Shape: s, Graph: graph}
	ens.Shape.Members = k
	var members []*Params
	for seed := range uint64(k) {
		p, err := NewParams(s, seed+1)
		if err != nil {
			t.Fatal(err)
		}
		p.Graph = graph
		for _, w := range p.Tensors {
			for j := range w {
				w[j] *= 3
			}
		}
		members = append(members, p)
		ens.Tensors = append(ens.Tensors, p.Tensors...)
	}
	return ens, members
}

// eachBackend runs f on simplego and on XLA where the plugin loads.
func eachBackend(t *testing.T, f func(t *testing.T, b backends.Backend)) {
	for _, name := range []string{BackendSimpleGo, BackendXLA} {
		t.Run(name, func(t *testing.T) {
			if name == BackendXLA {
				requireXLA(t)
			}
			b, _, err := OpenBackend(name)
			if err != nil {
				t.Fatal(err)
			}
			f(t, b)
		})
	}
}

// predictOn runs p on batch windows x on b.
func predictOn(t *testing.T, b backends.Backend, p *Params, x []float32, batch int) []float32 {
	t.Helper()
	r, err := NewRunner(b, p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out, err := r.Predict(x, batch)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkMembersMean fails unless got (an ensemble's outputs for some
// windows) is the members' outputs averaged: per service the mean of their
// culprit probabilities (each member's violation probability times its
// culprit share), and the mean violation probability.
func checkMembersMean(t *testing.T, s Shape, got []float32, members [][]float32) {
	t.Helper()
	for i := range got {
		var want float64
		for _, out := range members {
			want += float64(out[i]) / float64(len(members))
		}
		if math.Abs(float64(got[i])-want) > 1e-5 {
			t.Fatalf("window %d output %d = %v, want %v (members' mean)", i/s.Outputs(), i%s.Outputs(), got[i], want)
		}
	}
}

// TestEnsembleOfOwnScalings checks an ensemble whose members have their own
// feature scaling (members of different splits, Params.Scales): fed windows
// scaled for member 1, it outputs the mean of what each member computes on
// the same trace normalised with its own scaling, on both backends where
// XLA loads, in both inference forms.
func TestEnsembleOfOwnScalings(t *testing.T) {
	services := []string{"a", "b", "c", "d", "e"}
	tr := synthTrace(40, services, "c", [][2]int{{20, 30}})
	other := synthTrace(60, services[:4], "b", [][2]int{{10, 50}})
	features := []string{"depth", "latency"}
	var norms [][][]Norm
	var mats []*Matrix
	for _, fit := range [][]*Trace{{tr}, {other, tr}} {
		fs, err := FitFeatures(fit, features)
		if err != nil {
			t.Fatal(err)
		}
		m, err := fs.Normalize(tr)
		if err != nil {
			t.Fatal(err)
		}
		norms, mats = append(norms, fs.Norms), append(mats, m)
	}
	s := Shape{Services: len(services), Features: len(features), Window: 7, Kernel: 3, Channels: 3, Hidden: 4}
	ens, members := randomEnsemble(t, s, 2)
	var err error
	if ens.Scales, err = memberScales(norms); err != nil || ens.Scales == nil {
		t.Fatalf("scales %v, err %v: the two fits should differ", ens.Scales, err)
	}
	ticks := []int{6, 21, 39}
	windows := func(m *Matrix) []float32 {
		var x []float32
		for _, tk := range ticks {
			x = m.Im2col(x, s, tk)
		}
		return x
	}
	eachBackend(t, func(t *testing.T, b backends.Backend) {
		n := len(ticks)
		own := [][]float32{predictOn(t, b, members[0], windows(mats[0]), n), predictOn(t, b, members[1], windows(mats[1]), n)}
		// The scaling matters: member 2 on member 1's inputs computes something else.
		if wrong := predictOn(t, b, members[1], windows(mats[0]), n); slices.Equal(wrong, own[1]) {
			t.Fatal("member 2 reads both scalings alike: the test cannot fail")
		}
		checkMembersMean(t, s, predictOn(t, b, ens, windows(mats[0]), n), own)
	})
}

// TestCombine trains two members on one split and combines them: the
// ensemble serves the members' mean, round-trips through a file, and is
// validated again; members that cannot join are refused with the reason.
func TestCombine(t *testing.T) {
	services := []string{"a", "b", "c", "d"}
	var traces []*Trace
	for i := range 6 {
		tr := synthTrace(160, services, services[i%len(services)], [][2]int{{40 + 5*i, 50 + 5*i}, {110, 120}})
		tr.Dir = fmt.Sprintf("s%d", i)
		traces = append(traces, tr)
	}
	train := func(seed, initSeed uint64) *Model {
		cfg := DefaultTrainConfig()
		cfg.Features = []string{"depth"}
		cfg.Window, cfg.Hidden, cfg.Channels, cfg.Batch = 8, 8, 4, 16
		cfg.HorizonNs, cfg.Stride, cfg.Epochs, cfg.Patience, cfg.LR, cfg.ValFrac = 5*tick, 1, 2, 2, 1e-2, 0.34
		cfg.Seed, cfg.InitSeed = seed, initSeed
		m, err := Train(context.Background(), traces, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m1, m2 := train(1, 0), train(1, 2)
	if m2.Card.Train.InitSeed != 2 || m1.Card.Train.InitSeed != 0 {
		t.Fatalf("init seeds on the cards: %d, %d", m1.Card.Train.InitSeed, m2.Card.Train.InitSeed)
	}
	// --init-seed equal to --seed is the model --seed alone trains.
	if same := train(1, 1); !reflect.DeepEqual(same.Params.Tensors, m1.Params.Tensors) || same.Card.Train.InitSeed != 0 {
		t.Fatalf("init seed 1 of seed 1 trained other weights than seed 1 alone")
	}
	ens, err := Combine([]*Model{m1, m2}, traces, nil, BackendAuto)
	if err != nil {
		t.Fatal(err)
	}
	c := ens.Card
	if c.Shape.Members != 2 || len(ens.Params.Tensors) != 2*numParams || len(c.Members) != 2 ||
		c.Members[1].InitSeed != 2 || c.Members[1].ValTraces != nil || c.Validation == nil || c.Validation.Threshold != c.Threshold {
		t.Fatalf("ensemble card: shape %+v, %d tensors, members %+v, validation %+v", c.Shape, len(ens.Params.Tensors), c.Members, c.Validation)
	}
	if c.Validation == m1.Card.Validation || c.Validation.Traces != len(m1.Card.Train.ValTraces) {
		t.Fatalf("validation not computed again on the split: %+v", c.Validation)
	}
	if !reflect.DeepEqual(ens.Baselines, m1.Baselines) {
		t.Fatalf("baselines calibrated again on the split differ from the member's")
	}
	path := filepath.Join(t.TempDir(), "ens")
	if err := ens.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	val := traces[:1]
	preds := func(m *Model) *Predictions {
		p, err := PredictTraces(m, val, BackendAuto)
		if err != nil {
			t.Fatal(err)
		}
		return p[0]
	}
	got, p1, p2 := preds(loaded), preds(m1), preds(m2)
	nS := len(services)
	for tk := range got.Probs {
		if got.Probs[tk] == nil {
			continue
		}
		want := (p1.Probs[tk][nS] + p2.Probs[tk][nS]) / 2
		if math.Abs(float64(got.Probs[tk][nS]-want)) > 1e-5 {
			t.Fatalf("tick %d: violation probability %v, want the members' mean %v", tk, got.Probs[tk][nS], want)
		}
	}

	// Members of different splits, with calibration datasets neither saw.
	m3 := train(2, 0)
	var calib []*Trace
	for i := range 2 {
		tr := synthTrace(160, services, services[(i+1)%len(services)], [][2]int{{60, 70}})
		tr.Dir = fmt.Sprintf("calib/c%d", i)
		calib = append(calib, tr)
	}
	split, err := Combine([]*Model{m1, m3}, traces, calib, BackendAuto)
	if err != nil {
		t.Fatal(err)
	}
	c = split.Card
	if len(c.MemberNorms) != 2 || !reflect.DeepEqual(c.MemberNorms[1], m3.Card.Features.Norms) || !reflect.DeepEqual(c.Features, m1.Card.Features) ||
		!slices.Equal(c.Train.ValTraces, []string{"calib/c0", "calib/c1"}) || len(c.Train.TrainTraces) != len(traces) ||
		!slices.Equal(c.Members[1].ValTraces, m3.Card.Train.ValTraces) || c.Validation.Traces != len(calib) {
		t.Fatalf("ensemble of two splits: card %+v", c)
	}
	if err := split.Save(path); err != nil {
		t.Fatal(err)
	}
	if loaded, err = LoadModel(path); err != nil {
		t.Fatal(err)
	}
	flat := func(m *Model) []float32 {
		var out []float32
		for _, row := range preds(m).Probs {
			out = append(out, row...)
		}
		return out
	}
	got1 := flat(loaded)
	checkMembersMean(t, loaded.Card.Shape, got1, [][]float32{flat(m1), flat(m3)})
	// Retraining compares losses (ValidationLoss): its inputs are laid out
	// per member too.
	loss, err := loaded.ValidationLoss(context.Background(), calib, BackendAuto, 16)
	if err != nil || !(loss > 0) {
		t.Fatalf("validation loss %v, %v", loss, err)
	}
	shared := *loaded
	shared.Params = loaded.Params.Clone()
	shared.Params.Scales = nil
	if same, err := shared.ValidationLoss(context.Background(), calib, BackendAuto, 16); err != nil || same == loss {
		t.Fatalf("validation loss %v (%v) with member 1's scaling for both, %v with each member's: the scaling is not read", same, err, loss)
	}
	renamed := *calib[0]
	renamed.Dir = "elsewhere/" + m3.Card.Train.TrainTraces[0]
	slower := *calib[0]
	slower.TickNs *= 2

	faultLabels := *m2
	faultLabels.Card.Train.Labels = LabelsFaults
	otherFeatures := *m3
	otherFeatures.Card.Features.Features = []string{"latency"}
	for _, tc := range []struct {
		name    string
		members []*Model
		traces  []*Trace
		calib   []*Trace
		want    string
	}{
		{"one member", []*Model{m1}, traces, nil, "at least 2"},
		{"same initialisation", []*Model{m1, m1}, traces, nil, "same split and initialisation seeds 1 and 1"},
		{"other split", []*Model{m1, m3}, traces, nil, "split of seed 2"},
		{"calibration on training data", []*Model{m1, m3}, traces, []*Trace{calib[1], &renamed}, "trained or validated on " + m3.Card.Train.TrainTraces[0]},
		{"other features", []*Model{m1, &otherFeatures}, traces, calib, "features [latency]"},
		{"calibration of another tick", []*Model{m1, m3}, traces, []*Trace{calib[1], &slower}, "has 200 ms ticks, the members 100 ms"},
		{"already an ensemble", []*Model{ens, m1}, traces, nil, "already an ensemble"},
		{"validation trace missing", []*Model{m1, m2}, traces[:0], nil, "is not in the data"},
		{"other labels", []*Model{m1, &faultLabels}, traces, nil, `labels "faults"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Combine(tc.members, tc.traces, tc.calib, BackendAuto)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
