package predictor

import "fmt"

// EvalOptions are the settings of EvaluateModel.
type EvalOptions struct {
	Backend   string
	MinLeadNs int64
	Threshold float64
}

// EvaluateModel runs m over traces and scores it and its baselines.
func EvaluateModel(m *Model, traces []*Trace, o EvalOptions) (*Report, error) {
	b, _, err := OpenBackend(o.Backend)
	if err != nil {
		return nil, err
	}
	r, err := NewRunner(b, m.Params)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	dets := make([]*Detection, len(traces))
	for i, tr := range traces {
		if tr.TickNs/1e6 != m.Card.TickMs {
			return nil, fmt.Errorf("predictor: trace %s has tick %d ms, the model %d ms", tr.Dir, tr.TickNs/1e6, m.Card.TickMs)
		}
		p, err := m.PredictTrace(r, tr)
		if err != nil {
			return nil, err
		}
		dets[i] = p.Detect(tr, o.Threshold)
	}
	cfg := EvalConfig{HorizonNs: m.Card.HorizonMs * 1e6, MinLeadNs: o.MinLeadNs, FirstTick: m.Card.Shape.Window - 1}
	rep := Evaluate(traces, dets, m.Baselines, cfg)
	rep.Threshold = o.Threshold
	return rep, nil
}
