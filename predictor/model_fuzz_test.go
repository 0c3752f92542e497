package predictor

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seer-qos/seer/dataset"
)

// smallModel is a small valid model: two services, one edge, two
// features, an ensemble of two members with their own scaling.
func smallModel(f testing.TB) *Model {
	f.Helper()
	s := Shape{Services: 2, Features: 2, Window: 4, Kernel: 2, Channels: 2, Hidden: 2, Members: 2}
	p, err := NewParams(s, 5)
	if err != nil {
		f.Fatal(err)
	}
	norms := [][]Norm{{{0.5, 1}, {1, 2}}, {{0, 1}, {2, 0.5}}}
	m := &Model{Params: p, Baselines: &Baselines{MaxFPR: 0.04, Quantile: map[string]float64{BaselineQueueDepth: 0.99},
		Thresholds: map[string]map[string]float64{BaselineQueueDepth: {"a": 3, "b": 1}}},
		Card: Card{Format: ModelFormat, Shape: s, Threshold: 0.4, TickMs: 100, HorizonMs: 2000,
			Features:    FeatureSet{Services: []string{"a", "b"}, Features: []string{"depth", "latency"}, Norms: norms},
			MemberNorms: [][][]Norm{norms, {{{0.4, 1}, {1, 3}}, {{0, 2}, {2, 0.5}}}},
			CallGraph:   []dataset.Edge{{Caller: "a", Callee: "b"}}}}
	return m
}

// modelBytes is m as Save writes it.
func modelBytes(f testing.TB, m *Model) []byte {
	f.Helper()
	path := filepath.Join(f.TempDir(), "m")
	if err := m.Save(path); err != nil {
		f.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// FuzzDecodeModel: any bytes decode to a model or an error, never a panic;
// a model that decodes has weights of its shape, and saving it gives a file
// that decodes to the same weights.
func FuzzDecodeModel(f *testing.F) {
	seed := modelBytes(f, smallModel(f))
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add(bytes.Replace(seed, []byte(`"window":4`), []byte(`"window":2`), 1))
	f.Add([]byte(`{"card":{"format":"seer-model/2"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeModel(data)
		if err != nil {
			if m != nil {
				t.Fatal("a model with an error")
			}
			return
		}
		s := m.Card.Shape
		if len(m.Params.Tensors) != s.numTensors() {
			t.Fatalf("%d tensors, want %d", len(m.Params.Tensors), s.numTensors())
		}
		for i, w := range m.Params.Tensors {
			if len(w) != size(s.dims(i)) {
				t.Fatalf("tensor %d has %d values, want %d", i, len(w), size(s.dims(i)))
			}
		}
		path := filepath.Join(t.TempDir(), "m")
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		back, err := LoadModel(path)
		if err != nil {
			t.Fatalf("a decoded model does not load once saved: %v", err)
		}
		for i := range m.Params.Tensors {
			if !slices.EqualFunc(back.Params.Tensors[i], m.Params.Tensors[i], sameBits) {
				t.Fatalf("tensor %d differs after a round trip", i)
			}
		}
		if a, _ := json.Marshal(m.Card); !bytes.Equal(a, must(json.Marshal(back.Card))) {
			t.Fatal("card differs after a round trip")
		}
	})
}

func sameBits(a, b float32) bool { return a == b || (a != a && b != b) }

func must(b []byte, _ error) []byte { return b }

// TestDecodeModelRefuses: a model file that could not be served, or would
// serve garbage, is refused with what is wrong.
func TestDecodeModelRefuses(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(m *Model, weights []string) []string
		error string
	}{
		{"valid", func(*Model, []string) []string { return nil }, ""},
		{"format", func(m *Model, _ []string) []string { m.Card.Format = "seer-model/1"; return nil }, `format "seer-model/1"`},
		{"no tick", func(m *Model, _ []string) []string { m.Card.TickMs = 0; return nil }, "tick 0 ms and horizon 2000 ms must be positive"},
		{"negative horizon", func(m *Model, _ []string) []string { m.Card.HorizonMs = -1; return nil }, "must be positive"},
		{"threshold", func(m *Model, _ []string) []string { m.Card.Threshold = 1.5; return nil }, "threshold 1.5 is not a probability"},
		{"window", func(m *Model, _ []string) []string { m.Card.Shape.Window = MaxWindow + 1; return nil }, "window 4097 above 4096 ticks"},
		{"kernel", func(m *Model, _ []string) []string { m.Card.Shape.Kernel = 4; return nil }, "must exceed the kernel"},
		{"zero std", func(m *Model, _ []string) []string { m.Card.Features.Norms[1][0].Std = 0; return nil }, "service b feature depth: norm"},
		{"negative std", func(m *Model, _ []string) []string { m.Card.Features.Norms[0][1].Std = -1; return nil }, "service a feature latency: norm"},
		{"member std", func(m *Model, _ []string) []string { m.Card.MemberNorms[1][0][0].Std = 0; return nil }, "member 2: service 1 feature 1 has std 0"},
		{"unknown feature", func(m *Model, _ []string) []string { m.Card.Features.Features[1] = "p99"; return nil }, `unknown feature "p99"`},
		{"duplicate service", func(m *Model, _ []string) []string { m.Card.Features.Services[1] = "a"; return nil }, `service "a" is empty or listed twice`},
		{"services", func(m *Model, _ []string) []string { m.Card.Shape.Services = 3; return nil }, "tensors for 2 services, want 38 for 3"},
		{"tensors", func(_ *Model, w []string) []string { return w[:len(w)-1] }, "37 tensors for 2 services, want 38 for 2"},
		{"short tensor", func(_ *Model, w []string) []string { w[3] = w[3][:8]; return w }, "tensor x_f of member 1 is malformed"},
		{"not base64", func(_ *Model, w []string) []string { w[0] = "!" + w[0][1:]; return w }, "tensor conv_w of member 1 is malformed"},
		{"second member", func(_ *Model, w []string) []string { w[numParams+2] = ""; return w }, "tensor x_i of member 2 is malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := smallModel(t)
			var f modelFile
			if err := json.Unmarshal(modelBytes(t, m), &f); err != nil {
				t.Fatal(err)
			}
			if w := tt.edit(&f.Model, f.Weights); w != nil {
				f.Weights = w
			}
			data, err := json.Marshal(&f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = DecodeModel(data)
			switch {
			case tt.error == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.error != "" && (err == nil || !strings.Contains(err.Error(), tt.error)):
				t.Fatalf("got error %v, want one with %q", err, tt.error)
			}
		})
	}
}
