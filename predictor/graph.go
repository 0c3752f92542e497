package predictor

import (
	"math"
	"slices"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX's graph DSL reads best unqualified.
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// inputShape is the shape of a batch of widened im2col windows:
// [batch, steps, services, 3*kernel*features] (see CallGraph.widen).
func (s Shape) inputShape(batch int) shapes.Shape {
	return shapes.Make(dtypes.Float32, batch, s.Steps(), s.Services, s.convInputs())
}

// inputSize is the number of values of inputShape(batch).
func (s Shape) inputSize(batch int) int { return batch * s.Steps() * s.Services * s.convInputs() }

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
//
// With lead = [M], every weight has a leading axis of M members (an
// ensemble), the products are batched over it (one op per step for all
// members, not M), and the logits gain it too: [M, B, S] and [M, B, 1].
// x may have it too, [M, B, steps, S, 3*K*F], when each member reads the
// windows in its own scaling (inputLayout).
//
// fused is the inference form of the same network: the convolution of all
// steps is one product before the loop, and per step one product of the
// step's convolution output and the state, side by side, with the four
// gates' input and state weights stacked, the gates sliced from it: one
// product per step instead of 9 (op count rules the time of these small
// products). The gates' input products are not computed for all steps
// before the loop: at 500 services that held 3.4 MiB at once (14 MiB for
// an ensemble of 4) and was slower. Training keeps the other
// form: simplego cannot differentiate a slice of a computed node (it needs
// Pad). The two agree to float rounding (TestFusedForwardAgrees).
func forwardGraph(s Shape, x *Node, w []*Node, fused bool, lead ...int) (culprit, violation *Node) {
	// xl is 1 where x has the member axis too ([M, B, steps, S, 3*K*F]:
	// members that read inputs in their own scaling, inputLayout), else 0.
	xl := x.Rank() - 4
	batch := x.Shape().Dimensions[xl]
	rows := batch * s.Services
	g := x.Graph()
	d := func(dims ...int) []int { return append(slices.Clone(lead), dims...) }
	dx := func(dims ...int) []int { return append(slices.Clone(lead[:xl]), dims...) }
	relu := func(x *Node) *Node { return Max(x, ScalarZero(g, dtypes.Float32)) }
	h := Zeros(g, shapes.Make(dtypes.Float32, d(rows, s.Hidden)...))
	c := h
	var gates func(t int) (i, f, cand, o *Node) // pre-activations of step t
	if fused {
		steps, H := s.Steps(), s.Hidden
		xa := Reshape(Transpose(x, xl, xl+1), dx(steps*rows, s.convInputs())...) // step-major rows
		conv := relu(Add(MatMul(xa, w[pConvW]), Reshape(w[pConvB], d(1, s.Channels)...)))
		conv = Reshape(conv, d(steps, rows, s.Channels)...)
		side := func(a, b, c, e int) *Node { return Concatenate([]*Node{w[a], w[b], w[c], w[e]}, -1) }
		wz := Concatenate([]*Node{side(pXi, pXf, pXg, pXo), side(pHi, pHf, pHg, pHo)}, -2) // [C+H, 4H]
		bz := Reshape(side(pBi, pBf, pBg, pBo), d(1, 4*H)...)
		gates = func(t int) (i, f, cand, o *Node) {
			ct := Reshape(SliceAxis(conv, len(lead), AxisElem(t)), d(rows, s.Channels)...)
			z := Add(MatMul(Concatenate([]*Node{ct, h}, -1), wz), bz)
			part := func(k int) *Node { return SliceAxis(z, -1, AxisRange(k*H, (k+1)*H)) }
			return part(0), part(1), part(2), part(3)
		}
	} else {
		gates = func(t int) (i, f, cand, o *Node) {
			xt := Reshape(SliceAxis(x, xl+1, AxisElem(t)), dx(rows, s.convInputs())...)
			conv := relu(Add(MatMul(xt, w[pConvW]), Reshape(w[pConvB], d(1, s.Channels)...)))
			gate := func(xw, hw, b int) *Node {
				return Add(Add(MatMul(conv, w[xw]), MatMul(h, w[hw])), Reshape(w[b], d(1, s.Hidden)...))
			}
			return gate(pXi, pHi, pBi), gate(pXf, pHf, pBf), gate(pXg, pHg, pBg), gate(pXo, pHo, pBo)
		}
	}
	for t := range s.Steps() {
		iz, fz, gz, oz := gates(t)
		c = Add(Mul(Sigmoid(fz), c), Mul(Sigmoid(iz), Tanh(gz)))
		h = Mul(Sigmoid(oz), Tanh(c))
	}
	culprit = Add(Reshape(MatMul(h, w[pCulW]), d(batch, s.Services)...), Reshape(w[pCulB], d(1, s.Services)...))
	u := Add(Reshape(MatMul(h, w[pVioW]), d(batch, s.Services)...), Reshape(w[pVioB], d(1, s.Services)...))
	ctx := MatMul(ReduceMean(Reshape(h, d(batch, s.Services, s.Hidden)...), len(lead)+1), w[pCtxW])
	violation = Add(logSumExp(u), ctx)
	return culprit, violation
}

// logSumExp reduces x over its last axis, kept with size 1 ([B, S] to
// [B, 1]), shifted by the (constant) maximum for stability.
func logSumExp(x *Node) *Node {
	m := StopGradient(ReduceAndKeep(x, ReduceMax, -1))
	return Add(Log(ReduceAndKeep(Exp(Sub(x, m)), ReduceSum, -1)), m)
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
// fused picks the network's inference form (see forwardGraph).
func inferGraph(s Shape, fused bool) func([]*Node) *Node {
	return func(in []*Node) *Node {
		c, v := ensembleGraph(s, in[0], in[1:], fused)
		pv := Sigmoid(v)
		return Concatenate([]*Node{Mul(Softmax(c, 1), pv), pv}, 1)
	}
}

// ensembleGraph is forwardGraph for any number of members: one network's
// logits as they are; for several (each weight with a leading member axis,
// see weightTensors), logits whose sigmoid is the members' mean violation
// probability and whose culprit softmax times it is, per service, the
// members' mean culprit probability (each member's violation probability
// times its share: a mixture, so a member that sees no violation coming
// does not dilute the ranking of one that does). Computed in log space (log
// of the mean of exp of the log-probabilities), so inference and the loss
// read an ensemble as one model.
func ensembleGraph(s Shape, x *Node, w []*Node, fused bool) (culprit, violation *Node) {
	k := s.members()
	if k == 1 {
		return forwardGraph(s, x, w, fused)
	}
	c, v := forwardGraph(s, x, w, fused, k)
	logMean := func(x *Node) *Node { // over the member axis
		m := StopGradient(ReduceAndKeep(x, ReduceMax, 0))
		lse := Add(Log(ReduceAndKeep(Exp(Sub(x, m)), ReduceSum, 0)), m)
		return AddScalar(Reshape(lse, x.Shape().Dimensions[1:]...), -math.Log(float64(k)))
	}
	logPV := Neg(Softplus(Neg(v))) // log of each member's violation probability, [M, B, 1]
	culprit = logMean(Add(Sub(c, logSumExp(c)), logPV))
	violation = Sub(logMean(logPV), logMean(Neg(Softplus(v)))) // log p - log (1-p)
	return culprit, violation
}

// trainGraph returns a graph function: inputs [x, y, wt, weights...],
// outputs [loss, gradients in Params order...].
func trainGraph(s Shape) func([]*Node) []*Node {
	if s.members() > 1 {
		panic("predictor: trainGraph takes one network; an ensemble's members train one by one")
	}
	return func(in []*Node) []*Node {
		x, y, wt, w := in[0], in[1], in[2], in[3:]
		c, v := forwardGraph(s, x, w, false)
		loss := lossGraph(c, v, y, wt)
		return append([]*Node{loss}, Gradient(loss, w...)...)
	}
}

// evalLossGraph returns a graph function: inputs [x, y, wt, weights...],
// output the loss.
func evalLossGraph(s Shape) func([]*Node) *Node {
	return func(in []*Node) *Node {
		c, v := ensembleGraph(s, in[0], in[3:], false)
		return lossGraph(c, v, in[1], in[2])
	}
}
