package predictor

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestEnsembleGraphAverages checks that an ensemble's violation probability
// is its members' mean and its culprit shares their mean softmax, on both
// backends where XLA loads.
func TestEnsembleGraphAverages(t *testing.T) {
	s := Shape{Services: 5, Features: 2, Window: 7, Kernel: 3, Channels: 3, Hidden: 4}
	graph := benchCallGraph(s.Services)
	var members []*Params
	ens := &Params{Shape: s, Graph: graph}
	ens.Shape.Members = 3
	for seed := range uint64(3) {
		p, err := NewParams(s, seed+1)
		if err != nil {
			t.Fatal(err)
		}
		p.Graph = graph
		for _, w := range p.Tensors { // larger weights: members that disagree, so a wrong mean shows
			for j := range w {
				w[j] *= 3
			}
		}
		members = append(members, p)
		ens.Tensors = append(ens.Tensors, p.Tensors...)
	}
	if got := ens.Member(1); &got.Tensors[0][0] != &members[1].Tensors[0][0] || got.Shape != s {
		t.Fatalf("Member(1) is not the second member")
	}
	const batch = 2
	x := randomInput(s, batch, 7)
	for _, name := range []string{BackendSimpleGo, BackendXLA} {
		t.Run(name, func(t *testing.T) {
			if name == BackendXLA {
				requireXLA(t)
			}
			b, _, err := OpenBackend(name)
			if err != nil {
				t.Fatal(err)
			}
			predict := func(p *Params) []float32 {
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
			got := predict(ens)
			want := make([]float64, len(got))
			for _, p := range members {
				out := predict(p)
				for w := range batch {
					row := out[w*s.Outputs() : (w+1)*s.Outputs()]
					pv := float64(row[s.Services])
					for j := range s.Services {
						want[w*s.Outputs()+j] += float64(row[j]) / pv / 3 // the member's softmax share
					}
					want[w*s.Outputs()+s.Services] += pv / 3
				}
			}
			for w := range batch {
				pv := want[w*s.Outputs()+s.Services]
				for j := range s.Services {
					want[w*s.Outputs()+j] *= pv
				}
			}
			for i := range got {
				if math.Abs(float64(got[i])-want[i]) > 1e-5 {
					t.Fatalf("output %d = %v, want %v (members' mean)", i, got[i], want[i])
				}
			}
		})
	}
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
	ens, err := Combine([]*Model{m1, m2}, traces, BackendAuto)
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

	faultLabels := *m2
	faultLabels.Card.Train.Labels = LabelsFaults
	for _, tc := range []struct {
		name    string
		members []*Model
		traces  []*Trace
		want    string
	}{
		{"one member", []*Model{m1}, traces, "at least 2"},
		{"same initialisation", []*Model{m1, m1}, traces, "same initialisation seed 1"},
		{"other split", []*Model{m1, train(2, 3)}, traces, "split of seed 2"},
		{"already an ensemble", []*Model{ens, m1}, traces, "already an ensemble"},
		{"validation trace missing", []*Model{m1, m2}, traces[:0], "is not in the data"},
		{"other labels", []*Model{m1, &faultLabels}, traces, `labels "faults"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Combine(tc.members, tc.traces, BackendAuto)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
