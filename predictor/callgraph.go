package predictor

import (
	"slices"

	"github.com/seer-qos/seer/dataset"
)

// CallGraph is the dependency graph over a model's services, by model
// service index. The network's convolution reads, next to a service's own
// window, the mean window of its callees and of its callers: a service whose
// own latency rises while its callees' does not is where a hotspot starts,
// and one whose callers queue up behind it is on the path of one.
//
// The graph is immutable once built, so Params clones share it.
type CallGraph struct {
	callees, callers [][]int32
}

// NewCallGraph builds the graph of edges over services (a model's
// Card.Features.Services); edges naming a service outside the list, and
// self-calls, are ignored.
func NewCallGraph(services []string, edges []dataset.Edge) *CallGraph {
	g := &CallGraph{callees: make([][]int32, len(services)), callers: make([][]int32, len(services))}
	for _, e := range edges {
		a, b := slices.Index(services, e.Caller), slices.Index(services, e.Callee)
		if a < 0 || b < 0 || a == b || slices.Contains(g.callees[a], int32(b)) {
			continue
		}
		g.callees[a] = append(g.callees[a], int32(b))
		g.callers[b] = append(g.callers[b], int32(a))
	}
	for i := range services {
		slices.Sort(g.callees[i])
		slices.Sort(g.callers[i])
	}
	return g
}

// Edges returns the graph as caller -> callee edges over services.
func (g *CallGraph) Edges(services []string) []dataset.Edge {
	var out []dataset.Edge
	if g == nil {
		return out
	}
	for a, cs := range g.callees {
		for _, b := range cs {
			out = append(out, dataset.Edge{Caller: services[a], Callee: services[b]})
		}
	}
	return out
}

// widen lays out the convolution's input from batch im2col windows x
// ([batch, steps, services, Kernel*Features]): per step and service, its own
// window, the mean window of its callees, then of its callers (zeros for
// none). It runs in Go, in O(edges) per step, before the graph: the
// dependency graph is sparse, and a dense services x services product in
// the graph would cost more than the rest of the network at 500 services.
func (g *CallGraph) widen(dst, x []float32, s Shape, batch int) []float32 {
	w, n := s.windowInputs(), s.inputSize(batch)
	dst = slices.Grow(dst[:0], n)[:n]
	// Each value is written once (no clear of dst first): at 500 services
	// the layout is about a sixth of a window's inference (0.25 of 1.5 ms).
	for blk := range batch * s.Steps() {
		base := blk * s.Services
		for svc := range s.Services {
			row := base + svc
			out := dst[row*3*w : (row+1)*3*w]
			copy(out[:w], x[row*w:(row+1)*w])
			if g == nil {
				clear(out[w:])
				continue
			}
			meanInto(out[w:2*w], x, base, w, g.callees[svc])
			meanInto(out[2*w:], x, base, w, g.callers[svc])
		}
	}
	return dst
}

// meanInto writes into out the mean of the windows of services nb in the
// block of rows starting at base (zeros for none).
func meanInto(out, x []float32, base, w int, nb []int32) {
	if len(nb) == 0 {
		clear(out)
		return
	}
	copy(out, x[(base+int(nb[0]))*w:(base+int(nb[0])+1)*w])
	if len(nb) == 1 {
		return
	}
	for _, j := range nb[1:] {
		row := x[(base+int(j))*w:][:len(out)]
		for k := range out {
			out[k] += row[k]
		}
	}
	inv := 1 / float32(len(nb))
	for k := range out {
		out[k] *= inv
	}
}
