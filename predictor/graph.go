package predictor

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's graph DSL reads best unqualified.
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// inputShape is the shape of a batch of widened im2col windows:
// [batch, steps, services, 3*kernel*features] (see CallGraph.widen).
func (s Shape) inputShape(batch int) shapes.Shape {
	return shapes.Make(dtypes.Float32, batch, s.Steps(), s.Services, s.convInputs())
}

// forwardGraph builds the network on x ([B, steps, S, 3*K*F]) with weights w
// (graph inputs in Params order) and returns the logits [B, S+1].
//
// Every service runs the same cells: a graph convolution over the services x
// time window (its own 3-tick window and its callees' and callers' means, x
// shared weights, ReLU), then an LSTM over the steps, all services as one
// batch of B*S rows. Per service, the culprit logit is a linear read-out of
// its final state plus a per-service prior; the end-to-end violation logit
// is a soft maximum (log-sum-exp) over the services' read-outs plus a read-out
// of the mean state: a violation starts wherever the worst service is.
func forwardGraph(s Shape, x *Node, w []*Node) *Node {
	batch := x.Shape().Dimensions[0]
	rows := batch * s.Services
	g := x.Graph()
	h := Zeros(g, shapes.Make(dtypes.Float32, rows, s.Hidden))
	c := h
	for t := range s.Steps() {
		xt := Reshape(SliceAxis(x, 1, AxisElem(t)), rows, s.convInputs())
		conv := Max(Add(MatMul(xt, w[pConvW]), Reshape(w[pConvB], 1, s.Channels)), ScalarZero(g, dtypes.Float32))
		gate := func(xw, hw, b int) *Node {
			return Add(Add(MatMul(conv, w[xw]), MatMul(h, w[hw])), Reshape(w[b], 1, s.Hidden))
		}
		i := Sigmoid(gate(pXi, pHi, pBi))
		f := Sigmoid(gate(pXf, pHf, pBf))
		cand := Tanh(gate(pXg, pHg, pBg))
		o := Sigmoid(gate(pXo, pHo, pBo))
		c = Add(Mul(f, c), Mul(i, cand))
		h = Mul(o, Tanh(c))
	}
	culprit := Add(Reshape(MatMul(h, w[pCulW]), batch, s.Services), Reshape(w[pCulB], 1, s.Services))
	u := Add(Reshape(MatMul(h, w[pVioW]), batch, s.Services), Reshape(w[pVioB], 1, s.Services))
	// log-sum-exp over services, shifted by the (constant) max for stability.
	m := StopGradient(ReduceMax(u, 1))
	lse := Add(Log(ReduceSum(Exp(Sub(u, Reshape(m, batch, 1))), 1)), m)
	ctx := MatMul(ReduceMean(Reshape(h, batch, s.Services, s.Hidden), 1), w[pCtxW])
	violation := Add(Reshape(lse, batch, 1), ctx)
	return Concatenate([]*Node{culprit, violation}, 1)
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
