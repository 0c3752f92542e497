package predictor

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// memberScale maps an input scaled for member 1 of an ensemble (the card's
// Features) to another member's scaling: x*a + b, per service and feature
// ([service*features + feature]). Both scalings are affine in log1p of the
// raw value, so the map is exact. A service the data lacks, which reads 0
// in member 1's scaling (its training mean), reads member 1's training
// mean in every member, not each member's own (their 0): the ensemble is
// its members' mean where every service is present.
type memberScale struct{ a, b []float32 }

// memberScales returns the maps from the card's scaling to each member's
// (Card.MemberNorms): nil where the members share it.
func (c Card) memberScales() ([]memberScale, error) {
	if len(c.MemberNorms) == 0 {
		return nil, nil
	}
	if len(c.MemberNorms) != c.Shape.members() {
		return nil, fmt.Errorf("the scaling of %d members, want %d", len(c.MemberNorms), c.Shape.members())
	}
	if !reflect.DeepEqual(c.MemberNorms[0], c.Features.Norms) {
		return nil, fmt.Errorf("member 1's scaling differs from the card's features'")
	}
	return memberScales(c.MemberNorms)
}

// memberScales returns the maps from member 1's scaling (norms[0]) to each
// member's: nil for one member or for members that all share member 1's.
func memberScales(norms [][][]Norm) ([]memberScale, error) {
	if len(norms) < 2 {
		return nil, nil
	}
	first := norms[0]
	out := make([]memberScale, len(norms))
	same := true
	for k, nk := range norms {
		if len(nk) != len(first) {
			return nil, fmt.Errorf("member %d has the scaling of %d services, want %d", k+1, len(nk), len(first))
		}
		for s := range nk {
			if len(nk[s]) != len(first[s]) {
				return nil, fmt.Errorf("member %d has the scaling of %d features for service %d, want %d", k+1, len(nk[s]), s+1, len(first[s]))
			}
			for f, n := range nk[s] {
				if !(n.Std > 0) {
					return nil, fmt.Errorf("member %d: service %d feature %d has std %v", k+1, s+1, f+1, n.Std)
				}
				if n != first[s][f] {
					same = false
				}
				// (log1p(v) - m1)/s1 = x  =>  (log1p(v) - mk)/sk = x*s1/sk + (m1-mk)/sk
				out[k].a = append(out[k].a, float32(first[s][f].Std/n.Std))
				out[k].b = append(out[k].b, float32((first[s][f].Mean-n.Mean)/n.Std))
			}
		}
	}
	if same {
		return nil, nil
	}
	return out, nil
}

// apply writes into dst the im2col windows x (Matrix.Im2col, member 1's
// scaling) in this member's scaling and returns it.
func (m memberScale) apply(dst, x []float32, s Shape) []float32 {
	dst = slices.Grow(dst[:0], len(x))[:len(x)]
	nF := s.Features
	for i := 0; i < len(x); i += nF { // one tick of one service per step
		o := (i / s.windowInputs() % s.Services) * nF
		a, b := m.a[o:o+nF], m.b[o:o+nF]
		for f, v := range x[i : i+nF] {
			dst[i+f] = v*a[f] + b[f]
		}
	}
	return dst
}

// inputLayout lays a model's im2col windows out as its graph input:
// widened along the call graph (CallGraph.widen) and, for an ensemble whose
// members have their own scaling (Params.Scales), once per member in its
// scaling, along a leading member axis. It keeps scratch space, so it is not
// safe for concurrent use; each Runner and batcher has its own.
type inputLayout struct {
	shape  Shape
	graph  *CallGraph
	scales []memberScale
	scaled []float32 // scratch: the windows in one member's scaling
}

// inputLayout returns a layout of p's inputs.
func (p *Params) inputLayout() *inputLayout {
	return &inputLayout{shape: p.Shape, graph: p.Graph, scales: p.Scales}
}

// inputShape is the graph input's shape for batch windows: Shape.inputShape,
// with the member axis first where the members read their own scaling.
func (l *inputLayout) inputShape(batch int) shapes.Shape {
	sh := l.shape.inputShape(batch)
	if l.scales == nil {
		return sh
	}
	return shapes.Make(dtypes.Float32, append([]int{len(l.scales)}, sh.Dimensions...)...)
}

// write lays batch im2col windows x out into dst as the graph input and
// returns it.
func (l *inputLayout) write(dst, x []float32, batch int) []float32 {
	if l.scales == nil {
		return l.graph.widen(dst, x, l.shape, batch)
	}
	n := l.shape.inputSize(batch) // one member's block
	dst = slices.Grow(dst[:0], len(l.scales)*n)[:len(l.scales)*n]
	for k, sc := range l.scales {
		in := x
		if k > 0 {
			l.scaled = sc.apply(l.scaled, x, l.shape)
			in = l.scaled
		}
		l.graph.widen(dst[k*n:(k+1)*n:(k+1)*n], in, l.shape, batch)
	}
	return dst
}
