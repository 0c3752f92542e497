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
// (graph inputs in Params order) and returns the culprit logits [B, S] and
// the violation logit [B, 1]. They are kept apart because the loss treats
// them differently and simplego cannot differentiate a slice of a computed
// node.
//
// Every service runs the same cells: a graph convolution over the services x
// time window (its own 3-tick window and its callees' and callers' means, x
// shared weights, ReLU), then an LSTM over the steps, all services as one
// batch of B*S rows. Per service, the culprit logit is a linear read-out of
// its final state plus a per-service prior; the end-to-end violation logit
// is a soft maximum (log-sum-exp) over the services' read-outs plus a read-out
// of the mean state: a violation starts wherever the worst service is.
func forwardGraph(s Shape, x *Node, w []*Node) (culprit, violation *Node) {
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
	culprit = Add(Reshape(MatMul(h, w[pCulW]), batch, s.Services), Reshape(w[pCulB], 1, s.Services))
	u := Add(Reshape(MatMul(h, w[pVioW]), batch, s.Services), Reshape(w[pVioB], 1, s.Services))
	ctx := MatMul(ReduceMean(Reshape(h, batch, s.Services, s.Hidden), 1), w[pCtxW])
	violation = Add(logSumExp(u), ctx)
	return culprit, violation
}

// logSumExp reduces x [B, S] over S to [B, 1], shifted by the (constant)
// row maximum for stability.
func logSumExp(x *Node) *Node {
	batch := x.Shape().Dimensions[0]
	m := Reshape(StopGradient(ReduceMax(x, 1)), batch, 1)
	return Add(Reshape(Log(ReduceSum(Exp(Sub(x, m)), 1)), batch, 1), m)
}

// lossGraph is the training loss of culprit logits c [B, S] and violation
// logits v [B, 1] against labels y and per-element weights wt, both [B, S+1]
// laid out as the outputs: the violation part is a binary cross-entropy
// weighted by wt[:, S]; the culprit part a cross-entropy of the softmax over
// services against the target distribution y[:, :S], weighted per sample by
// wt[:, 0] (0: no culprit to learn). The result is the weighted mean.
func lossGraph(c, v, y, wt *Node) *Node {
	g := c.Graph()
	batch, nS := c.Shape().Dimensions[0], c.Shape().Dimensions[1]
	yc, yv := SliceAxis(y, 1, AxisRange(0, nS)), SliceAxis(y, 1, AxisElem(nS))
	wc, wv := SliceAxis(wt, 1, AxisElem(0)), SliceAxis(wt, 1, AxisElem(nS))
	// max(z,0) - z*y + log(1+exp(-|z|)), stable for any z.
	bce := Add(Sub(Max(v, ScalarZero(g, dtypes.Float32)), Mul(v, yv)), Log1p(Exp(Neg(Abs(v)))))
	ce := Neg(ReduceSum(Mul(yc, Sub(c, logSumExp(c))), 1))
	sum := Add(ReduceAllSum(Mul(bce, wv)), ReduceAllSum(Mul(Reshape(ce, batch, 1), wc)))
	return Div(sum, Max(Add(ReduceAllSum(wv), ReduceAllSum(wc)), Scalar(g, dtypes.Float32, 1e-6)))
}

// inferGraph returns a graph function: inputs [x, weights...], output the
// probabilities [B, S+1]: per service the probability that it starts a
// violation within the horizon (the violation probability times the
// service's share of the culprit softmax), then the violation probability.
func inferGraph(s Shape) func([]*Node) *Node {
	return func(in []*Node) *Node {
		c, v := forwardGraph(s, in[0], in[1:])
		pv := Sigmoid(v)
		return Concatenate([]*Node{Mul(Softmax(c, 1), pv), pv}, 1)
	}
}

// trainGraph returns a graph function: inputs [x, y, wt, weights...],
// outputs [loss, gradients in Params order...].
func trainGraph(s Shape) func([]*Node) []*Node {
	return func(in []*Node) []*Node {
		x, y, wt, w := in[0], in[1], in[2], in[3:]
		c, v := forwardGraph(s, x, w)
		loss := lossGraph(c, v, y, wt)
		return append([]*Node{loss}, Gradient(loss, w...)...)
	}
}

// evalLossGraph returns a graph function: inputs [x, y, wt, weights...],
// output the loss.
func evalLossGraph(s Shape) func([]*Node) *Node {
	return func(in []*Node) *Node {
		c, v := forwardGraph(s, in[0], in[3:])
		return lossGraph(c, v, in[1], in[2])
	}
}
