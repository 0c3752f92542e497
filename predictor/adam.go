package predictor

import "math"

// adam is the Adam optimiser over Params, in Go: the model is small (tens of
// thousands of weights), so the update costs little next to the graph.
type adam struct {
	lr, b1, b2, eps float64
	step            int
	m, v            [][]float32
}

func newAdam(p *Params, lr float64) *adam {
	a := &adam{lr: lr, b1: 0.9, b2: 0.999, eps: 1e-8}
	for _, t := range p.Tensors {
		a.m = append(a.m, make([]float32, len(t)))
		a.v = append(a.v, make([]float32, len(t)))
	}
	return a
}

// update applies one step with gradients g (Params order), clipping the
// global gradient norm to 5.
func (a *adam) update(p *Params, g [][]float32) {
	var norm float64
	for _, t := range g {
		for _, x := range t {
			norm += float64(x) * float64(x)
		}
	}
	scale := 1.0
	if norm = math.Sqrt(norm); norm > 5 {
		scale = 5 / norm
	}
	a.step++
	c1 := 1 - math.Pow(a.b1, float64(a.step))
	c2 := 1 - math.Pow(a.b2, float64(a.step))
	for i, t := range p.Tensors {
		m, v, gi := a.m[i], a.v[i], g[i]
		for j := range t {
			gj := float64(gi[j]) * scale
			mj := a.b1*float64(m[j]) + (1-a.b1)*gj
			vj := a.b2*float64(v[j]) + (1-a.b2)*gj*gj
			m[j], v[j] = float32(mj), float32(vj)
			t[j] -= float32(a.lr * (mj / c1) / (math.Sqrt(vj/c2) + a.eps))
		}
	}
}
