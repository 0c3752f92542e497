package predictor

import (
	"slices"

	"github.com/seer-qos/seer/dataset"
)

// Episode is a QoS violation as an operator sees it: the union of the
// overlapping violation intervals of all request types, with the culprit
// services and fault kinds behind them.
type Episode struct {
	StartNs, EndNs int64
	Culprits       []string // services of the faults behind it (sorted, unique)
	Kinds          []string // fault kinds (sorted, unique); "unknown" when none
}

// Episodes merges a trace's violation intervals that overlap or touch.
func (tr *Trace) Episodes() []Episode {
	kind := map[string]string{}
	for _, f := range tr.Faults {
		kind[f.ID] = f.Kind
	}
	var out []Episode
	for _, v := range tr.Violations {
		if n := len(out); n > 0 && v.StartNs <= out[n-1].EndNs {
			e := &out[n-1]
			e.EndNs = max(e.EndNs, v.EndNs)
			e.Culprits, e.Kinds = addLabels(e.Culprits, e.Kinds, v, kind)
			continue
		}
		e := Episode{StartNs: v.StartNs, EndNs: v.EndNs}
		e.Culprits, e.Kinds = addLabels(nil, nil, v, kind)
		out = append(out, e)
	}
	for i := range out {
		if len(out[i].Kinds) == 0 {
			out[i].Kinds = []string{"unknown"}
		}
	}
	return out
}

func addLabels(culprits, kinds []string, v dataset.Violation, kind map[string]string) ([]string, []string) {
	for _, c := range v.Culprits {
		if c.Service != "" && !slices.Contains(culprits, c.Service) {
			culprits = append(culprits, c.Service)
		}
	}
	for _, id := range v.FaultIDs {
		if k := kind[id]; k != "" && !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(culprits)
	slices.Sort(kinds)
	return culprits, kinds
}

// Labels are the training targets of every tick of a trace for a horizon:
// Violation[t] is true when an episode is under way at any time in
// (end of t, end of t + horizon]; Culprit[t] lists the culprit services of
// those episodes.
type Labels struct {
	Violation []bool
	Culprit   [][]string
	// Ahead[t] is true when Violation[t] is but no episode is under way at
	// the end of t: the ticks on which a warning is an anticipation.
	Ahead []bool
}

// Labels computes the targets for a horizon in ns.
func (tr *Trace) Labels(horizonNs int64) Labels {
	eps := tr.Episodes()
	l := Labels{Violation: make([]bool, tr.Ticks), Culprit: make([][]string, tr.Ticks), Ahead: make([]bool, tr.Ticks)}
	for t := range tr.Ticks {
		end := tr.TickEndNs(t)
		for _, e := range eps {
			if e.StartNs <= end+horizonNs && e.EndNs > end {
				l.Violation[t] = true
				for _, c := range e.Culprits {
					if !slices.Contains(l.Culprit[t], c) {
						l.Culprit[t] = append(l.Culprit[t], c)
					}
				}
			}
		}
		l.Ahead[t] = l.Violation[t] && !inViolation(eps, end)
	}
	return l
}

// inViolation reports whether an episode is under way at the end of tick t.
func inViolation(eps []Episode, endNs int64) bool {
	for _, e := range eps {
		if e.StartNs <= endNs && endNs < e.EndNs {
			return true
		}
	}
	return false
}
