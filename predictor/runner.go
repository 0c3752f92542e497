package predictor

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
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
	layout  *inputLayout
	// in is the input tensor of the last batch size, reused across calls:
	// on XLA it is a buffer shared with the device, written in place, so a
	// call allocates nothing for its input and transfers nothing (fewer
	// allocations, fewer GC pauses in the inference tail).
	in      *tensors.Tensor
	inBatch int
	args    []any // in, then the weights: the Exec arguments
}

// NewRunner compiles (lazily) the inference graph of p on b.
func NewRunner(b backends.Backend, p *Params) (*Runner, error) {
	if err := p.Shape.Validate(); err != nil {
		return nil, err
	}
	// The fused form (forwardGraph) runs one window 2.3x faster on XLA at
	// 30 services, and 0.89x the time of its first version at 500
	// (predictor/README.md). On simplego it is 0.93-0.97x the training
	// form's time at 30 and 100 services but 1.11x at 500, where serving
	// time matters most: simplego serves the training form.
	_, simple := b.(*simplego.Backend)
	fused := !simple
	exec, err := graph.NewExec(b, inferGraph(p.Shape, fused))
	if err != nil {
		return nil, fmt.Errorf("predictor: inference graph: %w", err)
	}
	exec.SetMaxCache(4)
	return &Runner{shape: p.Shape, backend: b, exec: exec, weights: weightTensors(p), layout: p.inputLayout()}, nil
}

// weightTensors returns p's weights as graph inputs, in Params order: one
// tensor per parameter, for an ensemble with a leading member axis (the
// members' tensors stacked here once, not in the graph on every call).
func weightTensors(p *Params) []any {
	k := p.Shape.members()
	w := make([]any, numParams)
	for i := range numParams {
		dims := p.Shape.dims(i)
		if k == 1 {
			w[i] = tensors.FromFlatDataAndDimensions(p.Tensors[i], dims...)
			continue
		}
		flat := make([]float32, 0, k*size(dims))
		for m := range k {
			flat = append(flat, p.Tensors[m*numParams+i]...)
		}
		w[i] = tensors.FromFlatDataAndDimensions(flat, append([]int{k}, dims...)...)
	}
	return w
}

// Shape returns the model's shape.
func (r *Runner) Shape() Shape { return r.shape }

// Predict runs batch windows laid out by Matrix.Im2col (batch*steps*S*K*F
// values, in the card's scaling), laid out as the graph's input
// (inputLayout: widened along the call graph), and returns batch*(S+1)
// probabilities: per window, the services' culprit probabilities then the
// end-to-end violation probability.
func (r *Runner) Predict(x []float32, batch int) ([]float32, error) {
	s := r.shape
	want := batch * s.Steps() * s.Services * s.Kernel * s.Features
	if len(x) != want {
		return nil, fmt.Errorf("predictor: input has %d values, want %d for batch %d", len(x), want, batch)
	}
	in, err := r.input(batch)
	if err != nil {
		return nil, err
	}
	if err := tensors.MutableFlatData(in, func(flat []float32) { r.layout.write(flat, x, batch) }); err != nil {
		return nil, fmt.Errorf("predictor: write input: %w", err)
	}
	out, err := r.exec.Exec(r.args...)
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

// input returns the input tensor for batch, made on first use of that
// batch size (shared with the device where the backend allows it).
func (r *Runner) input(batch int) (*tensors.Tensor, error) {
	if r.in != nil && r.inBatch == batch {
		return r.in, nil
	}
	if r.in != nil {
		_ = r.in.FinalizeAll()
	}
	t := tensors.FromShape(r.layout.inputShape(batch))
	if err := t.MaterializeOnDevice(r.backend, true, 0); err != nil {
		return nil, fmt.Errorf("predictor: input buffer: %w", err)
	}
	r.in, r.inBatch = t, batch
	r.args = append(append(r.args[:0], t), r.weights...)
	return t, nil
}

// Close releases the compiled graphs and the input buffer.
func (r *Runner) Close() {
	r.exec.Finalize()
	if r.in != nil {
		_ = r.in.FinalizeAll()
		r.in = nil
	}
}

func finalize(ts []*tensors.Tensor) {
	for _, t := range ts {
		_ = t.FinalizeAll()
	}
}
