package predictor

import (
	"fmt"
	"slices"
)

// predictBatch is the batch size of offline inference: one compiled graph;
// the last batch is padded.
const predictBatch = 64

// Predictions are a model's outputs on every tick of a trace:
// [tick][model service..., violation]; ticks before the first full window
// are zero.
type Predictions struct {
	Services []string // model services
	Probs    [][]float32
}

// PredictTrace runs the model over every tick of tr.
func (m *Model) PredictTrace(r *Runner, tr *Trace) (*Predictions, error) {
	mat, err := m.Card.Features.Normalize(tr)
	if err != nil {
		return nil, err
	}
	s := m.Card.Shape
	out := &Predictions{Services: m.Card.Features.Services, Probs: make([][]float32, tr.Ticks)}
	first := s.Window - 1
	per := s.Steps() * s.Services * s.Kernel * s.Features
	x := make([]float32, 0, predictBatch*per)
	var ticks []int
	flush := func() error {
		n := len(ticks)
		for len(x) < predictBatch*per {
			x = append(x, x[:per]...)
		}
		probs, err := r.Predict(x, predictBatch)
		if err != nil {
			return fmt.Errorf("predictor: trace %s: %w", tr.Dir, err)
		}
		for i := range n {
			out.Probs[ticks[i]] = probs[i*s.Outputs() : (i+1)*s.Outputs()]
		}
		x, ticks = x[:0], ticks[:0]
		return nil
	}
	for t := range tr.Ticks {
		if t < first {
			out.Probs[t] = make([]float32, s.Outputs())
			continue
		}
		x = mat.Im2col(x, s, t)
		ticks = append(ticks, t)
		if len(ticks) == predictBatch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if len(ticks) > 0 {
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Detect turns predictions into a Detection for tr with a warning
// threshold on the violation probability; services of tr the model does
// not know rank last.
func (p *Predictions) Detect(tr *Trace, threshold float64) *Detection {
	d := &Detection{Alarm: make([]bool, tr.Ticks), Score: make([][]float32, tr.Ticks)}
	idx := make([]int, len(tr.Services))
	for i, svc := range tr.Services {
		idx[i] = slices.Index(p.Services, svc)
	}
	nS := len(p.Services)
	for t, pr := range p.Probs {
		d.Alarm[t] = float64(pr[nS]) >= threshold
		sc := make([]float32, len(tr.Services))
		for i, j := range idx {
			sc[i] = -1
			if j >= 0 {
				sc[i] = pr[j]
			}
		}
		d.Score[t] = sc
	}
	return d
}
