package predictor

// Report is the evaluation of a model and of the baselines on the same
// traces.
type Report struct {
	Metrics
	Threshold float64             `json:"threshold"`
	MinLeadMs float64             `json:"min_lead_ms"`
	HorizonMs float64             `json:"horizon_ms"`
	Traces    int                 `json:"traces"`
	Baselines map[string]*Metrics `json:"baselines,omitempty"`
	// MatchedFPR is Seer at each threshold baseline's false-positive rate
	// (see MatchFPR); set by EvaluatePredictions.
	MatchedFPR map[string]*Matched `json:"matched_fpr,omitempty"`
}

// Matched is Seer warning at the lowest threshold whose false-positive rate
// on the evaluated traces is at most a baseline's there: Seer against the
// baseline at an equal false-positive rate (a point of Seer's ROC curve
// picked on these traces, not a calibration).
type Matched struct {
	Threshold float64 `json:"threshold"`
	*Metrics
}

// Evaluate scores model detections (one per trace, from Predictions.Detect)
// and, when b is not nil, the baselines on the same traces.
func Evaluate(traces []*Trace, seer []*Detection, b *Baselines, cfg EvalConfig) *Report {
	r := &Report{Traces: len(traces), MinLeadMs: float64(cfg.MinLeadNs) / 1e6, HorizonMs: float64(cfg.HorizonNs) / 1e6}
	for i, tr := range traces {
		r.score(tr, seer[i], cfg)
	}
	r.finish()
	if b != nil {
		r.Baselines = map[string]*Metrics{}
		for _, name := range BaselineNames {
			if !b.has(name) {
				continue
			}
			m := &Metrics{}
			for _, tr := range traces {
				m.score(tr, b.detect(name, tr), cfg)
			}
			m.finish()
			r.Baselines[name] = m
		}
	}
	return r
}
