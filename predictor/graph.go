package predictor

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's graph DSL reads best unqualified.
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// inputShape is the shape of a batch of im2col windows:
// [batch, steps, services, kernel*features].
func (s Shape) inputShape(batch int) shapes.Shape {
	return shapes.Make(dtypes.Float32, batch, s.Steps(), s.Services, s.Kernel*s.Features)
}

// forwardGraph builds the network on x ([B, steps, S, K*F]) with weights w
// (graph inputs in Params order) and returns the logits [B, S+1].
func forwardGraph(s Shape, x *Node, w []*Node) *Node {
	batch := x.Shape().Dimensions[0]
	g := x.Graph()
	h := Zeros(g, shapes.Make(dtypes.Float32, batch, s.Hidden))
	c := h
	for t := range s.Steps() {
		// Convolution 3x1 (time x services) as one product over the laid-out
		// window: [B, S, K*F] x [K*F, C].
		xt := Reshape(SliceAxis(x, 1, AxisElem(t)), batch, s.Services, s.Kernel*s.Features)
		conv := Einsum("bsk,kc->bsc", xt, w[pConvW])
		conv = Max(Add(conv, Reshape(w[pConvB], 1, 1, s.Channels)), ScalarZero(g, dtypes.Float32))
		in := Reshape(conv, batch, s.Services*s.Channels)
		gate := func(xw, hw, b int) *Node {
			return Add(Add(MatMul(in, w[xw]), MatMul(h, w[hw])), Reshape(w[b], 1, s.Hidden))
		}
		i := Sigmoid(gate(pXi, pHi, pBi))
		f := Sigmoid(gate(pXf, pHf, pBf))
		cand := Tanh(gate(pXg, pHg, pBg))
		o := Sigmoid(gate(pXo, pHo, pBo))
		c = Add(Mul(f, c), Mul(i, cand))
		h = Mul(o, Tanh(c))
	}
	return Add(MatMul(h, w[pOutW]), Reshape(w[pOutB], 1, s.Outputs()))
}

// lossGraph is the weighted binary cross-entropy of logits against labels y,
// both [B, S+1], with per-element weights wt: sum(wt*bce)/sum(wt).
func lossGraph(logits, y, wt *Node) *Node {
	// max(z,0) - z*y + log(1+exp(-|z|)), stable for any z.
	g := logits.Graph()
	bce := Add(Sub(Max(logits, ScalarZero(g, dtypes.Float32)), Mul(logits, y)),
		Log1p(Exp(Neg(Abs(logits)))))
	return Div(ReduceAllSum(Mul(bce, wt)), Max(ReduceAllSum(wt), Scalar(g, dtypes.Float32, 1e-6)))
}

// inferGraph returns a graph function: inputs [x, weights...], output the
// probabilities [B, S+1].
func inferGraph(s Shape) func([]*Node) *Node {
	return func(in []*Node) *Node {
		return Sigmoid(forwardGraph(s, in[0], in[1:]))
	}
}

// trainGraph returns a graph function: inputs [x, y, wt, weights...],
// outputs [loss, gradients in Params order...].
func trainGraph(s Shape) func([]*Node) []*Node {
	return func(in []*Node) []*Node {
		x, y, wt, w := in[0], in[1], in[2], in[3:]
		loss := lossGraph(forwardGraph(s, x, w), y, wt)
		return append([]*Node{loss}, Gradient(loss, w...)...)
	}
}

// evalLossGraph returns a graph function: inputs [x, y, wt, weights...],
// output the loss.
func evalLossGraph(s Shape) func([]*Node) *Node {
	return func(in []*Node) *Node {
		return lossGraph(forwardGraph(s, in[0], in[3:]), in[1], in[2])
	}
}
