package predictor

import "fmt"

// EvalOptions are the settings of EvaluatePredictions.
type EvalOptions struct {
	MinLeadNs int64
	Threshold float64
}

// PredictTraces runs m over every tick of each trace on a backend (see
// OpenBackend). Callers that score, plot and rank faults on the same
// traces run the model once.
func PredictTraces(m *Model, traces []*Trace, backend string) ([]*Predictions, error) {
	b, _, err := OpenBackend(backend)
	if err != nil {
		return nil, err
	}
	r, err := NewRunner(b, m.Params)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	preds := make([]*Predictions, len(traces))
	for i, tr := range traces {
		if tr.TickNs/1e6 != m.Card.TickMs {
			return nil, fmt.Errorf("predictor: trace %s has tick %d ms, the model %d ms", tr.Dir, tr.TickNs/1e6, m.Card.TickMs)
		}
		if preds[i], err = m.PredictTrace(r, tr); err != nil {
			return nil, err
		}
	}
	return preds, nil
}

// EvaluatePredictions scores m's predictions on traces (from PredictTraces)
// and m's baselines on the same traces.
func EvaluatePredictions(m *Model, traces []*Trace, preds []*Predictions, o EvalOptions) *Report {
	dets := make([]*Detection, len(traces))
	for i, tr := range traces {
		dets[i] = preds[i].Detect(tr, o.Threshold)
	}
	cfg := EvalConfig{HorizonNs: m.Card.HorizonMs * 1e6, MinLeadNs: o.MinLeadNs, FirstTick: m.Card.Shape.Window - 1}
	rep := Evaluate(traces, dets, m.Baselines, cfg)
	rep.Threshold = o.Threshold
	return rep
}
