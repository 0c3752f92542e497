package predictor

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
)

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
	rep.MatchedFPR = MatchFPR(traces, preds, rep.Baselines, cfg)
	return rep
}

// MatchFPR scores the predictions, for each threshold baseline of
// baselines, at the lowest threshold whose false-positive rate on traces
// is at most the baseline's (rounded up to 1e-6, the metrics taken at the
// rounded value): whether Seer anticipates more at the same false-positive
// rate. The reactive baseline is left out (it warns only during
// violations, so its rate is 0 by construction).
func MatchFPR(traces []*Trace, preds []*Predictions, baselines map[string]*Metrics, cfg EvalConfig) map[string]*Matched {
	if len(baselines) == 0 {
		return nil
	}
	neg := negativeProbs(traces, preds, cfg)
	out := map[string]*Matched{}
	for name, b := range baselines {
		if name == BaselineReactive {
			continue
		}
		th := 0.0 // any threshold: every negative tick may warn
		if bound := neg.bound(b.FalsePositiveRate); !math.IsInf(bound, -1) {
			th = math.Nextafter(bound, math.Inf(1))
		}
		// Rounded up: a threshold rounded down could warn on more ticks.
		th = math.Ceil(th*1e6) / 1e6
		m := &Metrics{}
		for i, tr := range traces {
			m.score(tr, preds[i].Detect(tr, th), cfg)
		}
		m.finish()
		out[name] = &Matched{Threshold: th, Metrics: m}
	}
	return out
}

// negProbs are the violation probabilities of the negative ticks of some
// traces, as Metrics.score counts them, highest first.
type negProbs []float64

func negativeProbs(traces []*Trace, preds []*Predictions, cfg EvalConfig) negProbs {
	var neg negProbs
	for i, tr := range traces {
		labels := tr.Labels(cfg.HorizonNs)
		nS := len(preds[i].Services)
		for t := cfg.FirstTick; t < tr.Ticks; t++ {
			if !labels.Violation[t] {
				neg = append(neg, float64(preds[i].Probs[t][nS]))
			}
		}
	}
	slices.SortFunc(neg, func(a, b float64) int { return cmp.Compare(b, a) })
	return neg
}

// bound returns the probability a warning threshold must exceed for the
// false-positive rate to be at most maxFPR (a threshold warns at or above
// it): the (k+1)-th highest, k the most false alarms maxFPR allows; -Inf
// when it allows them all.
func (n negProbs) bound(maxFPR float64) float64 {
	k := sort.Search(len(n)+1, func(k int) bool { return ratio(k, len(n)) > maxFPR }) - 1
	if k >= len(n) {
		return math.Inf(-1)
	}
	return n[k]
}

// AveragePredictions averages, tick by tick, the predictions of several
// models on the same traces (per model, per trace, from PredictTraces):
// each probability is the models' mean. Models trained on different splits
// read the traces through their own feature scaling, which an ensemble of
// one graph (Combine) cannot; this is the offline form of such an average.
// The models must predict the same services in the same order.
func AveragePredictions(perModel [][]*Predictions) ([]*Predictions, error) {
	if len(perModel) == 0 {
		return nil, fmt.Errorf("predictor: no predictions to average")
	}
	out := make([]*Predictions, len(perModel[0]))
	for j, preds := range perModel {
		if len(preds) != len(out) {
			return nil, fmt.Errorf("predictor: model %d predicted %d traces, model 0 %d", j, len(preds), len(out))
		}
	}
	k := float32(len(perModel))
	for i, first := range perModel[0] {
		avg := &Predictions{Services: first.Services, Probs: make([][]float32, len(first.Probs))}
		for t := range avg.Probs {
			avg.Probs[t] = make([]float32, len(first.Probs[t]))
		}
		for j, preds := range perModel {
			p := preds[i]
			if !slices.Equal(p.Services, first.Services) || len(p.Probs) != len(first.Probs) {
				return nil, fmt.Errorf("predictor: model %d predicts other services or ticks than model 0 (trace %d)", j, i)
			}
			for t, row := range p.Probs {
				for s, v := range row {
					avg.Probs[t][s] += v / k
				}
			}
		}
		out[i] = avg
	}
	return out, nil
}
