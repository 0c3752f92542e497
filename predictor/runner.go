package predictor

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// Runner runs a model's forward pass on one backend. Compiled graphs are
// cached per batch size by GoMLX. A Runner is not safe for concurrent use;
// serving keeps one per goroutine.
type Runner struct {
	shape   Shape
	backend backends.Backend
	exec    *graph.Exec
	weights []any
	graph   *CallGraph
	wide    []float32 // scratch for the widened input
}

// NewRunner compiles (lazily) the inference graph of p on b.
func NewRunner(b backends.Backend, p *Params) (*Runner, error) {
	if err := p.Shape.Validate(); err != nil {
		return nil, err
	}
	exec, err := graph.NewExec(b, inferGraph(p.Shape))
	if err != nil {
		return nil, fmt.Errorf("predictor: inference graph: %w", err)
	}
	exec.SetMaxCache(4)
	return &Runner{shape: p.Shape, backend: b, exec: exec, weights: weightTensors(p), graph: p.Graph}, nil
}

func weightTensors(p *Params) []any {
	w := make([]any, numParams)
	for i := range numParams {
		w[i] = tensors.FromFlatDataAndDimensions(p.Tensors[i], p.Shape.dims(i)...)
	}
	return w
}

// Shape returns the model's shape.
func (r *Runner) Shape() Shape { return r.shape }

// Predict runs batch windows laid out by Matrix.Im2col (batch*steps*S*K*F
// values), widened along the model's call graph, and returns batch*(S+1) probabilities: per window, the services'
// culprit probabilities then the end-to-end violation probability.
func (r *Runner) Predict(x []float32, batch int) ([]float32, error) {
	s := r.shape
	want := batch * s.Steps() * s.Services * s.Kernel * s.Features
	if len(x) != want {
		return nil, fmt.Errorf("predictor: input has %d values, want %d for batch %d", len(x), want, batch)
	}
	r.wide = r.graph.widen(r.wide, x, s, batch)
	args := make([]any, 0, 1+numParams)
	args = append(args, tensors.FromFlatDataAndDimensions(r.wide, s.inputShape(batch).Dimensions...))
	args = append(args, r.weights...)
	out, err := r.exec.Exec(args...)
	if err != nil {
		return nil, fmt.Errorf("predictor: inference: %w", err)
	}
	defer finalize(out)
	probs, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		return nil, fmt.Errorf("predictor: read output: %w", err)
	}
	return probs, nil
}

// Close releases the compiled graphs.
func (r *Runner) Close() { r.exec.Finalize() }

func finalize(ts []*tensors.Tensor) {
	for _, t := range ts {
		_ = t.FinalizeAll()
	}
}
