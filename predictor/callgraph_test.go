package predictor

import (
	"slices"
	"testing"

	"github.com/seer-qos/seer/dataset"
)

func TestCallGraphWiden(t *testing.T) {
	// a -> b, a -> c, c -> b; d isolated; x -> a names no model service.
	services := []string{"a", "b", "c", "d"}
	g := NewCallGraph(services, []dataset.Edge{{Caller: "a", Callee: "b"}, {Caller: "a", Callee: "c"},
		{Caller: "c", Callee: "b"}, {Caller: "x", Callee: "a"}, {Caller: "a", Callee: "b"}, {Caller: "d", Callee: "d"}})
	if got := g.Edges(services); len(got) != 3 {
		t.Fatalf("edges = %v, want a>b a>c c>b", got)
	}
	s := Shape{Services: 4, Features: 1, Window: 3, Kernel: 1, Channels: 1, Hidden: 1} // 3 steps, 1 value each
	x := make([]float32, 2*s.Steps()*4)                                                // batch 2
	for i := range x {
		x[i] = float32(i)
	}
	got := g.widen(nil, x, s, 2)
	if len(got) != 3*len(x) {
		t.Fatalf("widened %d values, want %d", len(got), 3*len(x))
	}
	// Row of service b (index 1) at batch 1, step 2: block 5, values of a..d there are 20..23.
	row := got[(5*4+1)*3:][:3]
	if want := []float32{21, 0, (20 + 22) / 2.0}; !slices.Equal(row, want) {
		t.Errorf("b: %v, want self 21, no callees, callers a and c mean 21", row)
	}
	row = got[(5*4+0)*3:][:3]
	if want := []float32{20, (21 + 22) / 2.0, 0}; !slices.Equal(row, want) {
		t.Errorf("a: %v, want self 20, callees b and c mean 21.5, no callers", row)
	}
	row = got[(5*4+3)*3:][:3]
	if want := []float32{23, 0, 0}; !slices.Equal(row, want) {
		t.Errorf("d: %v, want self only", row)
	}
	if nilG := (*CallGraph)(nil).widen(nil, x, s, 2); !slices.Equal(nilG[(5*4+1)*3:][:3], []float32{21, 0, 0}) {
		t.Errorf("no graph: %v", nilG[(5*4+1)*3:][:3])
	}
}
