package predictor

import (
	"math"
	"slices"
)

// Detection is what one detector (Seer or a baseline) says about each tick
// of a trace: whether it warns, and how it ranks the trace's services as
// culprits (higher first).
type Detection struct {
	Alarm []bool
	Score [][]float32 // [tick][trace service]
	// Reactive detectors rank culprits at their first alarm after onset.
	Reactive bool
}

// EvalConfig are the parameters of the scoring.
type EvalConfig struct {
	HorizonNs int64 // how far ahead a warning may come
	MinLeadNs int64 // a warning counts as anticipation only this long before onset
	FirstTick int   // ticks before it are not scored (no full window yet)
}

// Metrics are a detector's figures over a set of traces. See README.md for
// the definitions.
type Metrics struct {
	Violations  int     `json:"violations"`
	Anticipated int     `json:"anticipated"`
	Recall      float64 `json:"recall"`
	// Standing are the episodes with a warning standing at the last tick
	// ending at least MinLead before onset; RecallStanding = Standing /
	// Violations. Stricter than Anticipated, which a warning raised and
	// withdrawn anywhere in the horizon satisfies, often by chance (see
	// README.md for a random detector's figures).
	Standing          int                 `json:"standing"`
	RecallStanding    float64             `json:"recall_standing"`
	Precision         float64             `json:"precision"`
	FalsePositiveRate float64             `json:"false_positive_rate"`
	WithCulprit       int                 `json:"with_culprit"`
	CulpritTop1       float64             `json:"culprit_top1"`
	CulpritTop3       float64             `json:"culprit_top3"`
	LeadMsP50         float64             `json:"lead_ms_p50"`
	ByKind            map[string]*Metrics `json:"by_kind,omitempty"`
	// ByOnset splits the episodes by onset: OnsetAfterLoadStep (the
	// simulated load stepped up less than MinLead before it) and
	// OnsetOther. Episode figures only: precision and the false-positive
	// rate are left 0 there (as in ByKind), being the whole's.
	ByOnset map[string]*Metrics `json:"by_onset,omitempty"`

	alarms, truePos, negatives, falsePos int
	top1, top3                           int
	leads                                []float64
}

// score adds one trace's detection to m (and to the per-kind breakdown).
func (m *Metrics) score(tr *Trace, d *Detection, cfg EvalConfig) {
	labels := tr.Labels(cfg.HorizonNs)
	for t := cfg.FirstTick; t < tr.Ticks; t++ {
		if d.Alarm[t] {
			m.alarms++
			if labels.Violation[t] {
				m.truePos++
			}
		}
		if !labels.Violation[t] {
			m.negatives++
			if d.Alarm[t] {
				m.falsePos++
			}
		}
	}
	firstEnd := tr.TickEndNs(cfg.FirstTick)
	for _, e := range tr.Episodes() {
		if e.StartNs-cfg.MinLeadNs < firstEnd {
			continue // no full window before it
		}
		anticipated, lead, rankTick := false, 0.0, -1
		for t := cfg.FirstTick; t < tr.Ticks; t++ {
			end := tr.TickEndNs(t)
			if end > e.StartNs-cfg.MinLeadNs {
				break
			}
			if end >= e.StartNs-cfg.HorizonNs && d.Alarm[t] && !d.Reactive {
				anticipated, lead, rankTick = true, float64(e.StartNs-end)/1e6, t
				break
			}
			rankTick = t // the last tick at least MinLead before onset
		}
		if d.Reactive {
			rankTick = -1
			for t := cfg.FirstTick; t < tr.Ticks && tr.TickEndNs(t) < e.EndNs; t++ {
				if tr.TickEndNs(t) >= e.StartNs && d.Alarm[t] {
					rankTick = t
					break
				}
			}
		}
		// The last tick ending at least MinLead before onset (there is one:
		// episodes without are skipped above).
		lastTick := int((e.StartNs-cfg.MinLeadNs-tr.StartNs)/tr.TickNs) - 1
		standing := !d.Reactive && lastTick >= cfg.FirstTick && lastTick < tr.Ticks && d.Alarm[lastTick]
		top1, top3 := false, false
		if len(e.Culprits) > 0 && rankTick >= 0 {
			top1, top3 = rankHits(tr, d.Score[rankTick], e.Culprits)
		}
		onset := OnsetOther
		if tr.afterLoadStep(e.StartNs, cfg.MinLeadNs) {
			onset = OnsetAfterLoadStep
		}
		targets := []*Metrics{m, sub(&m.ByOnset, onset)}
		for _, k := range e.Kinds {
			targets = append(targets, sub(&m.ByKind, k))
		}
		for _, mk := range targets {
			mk.Violations++
			if anticipated {
				mk.Anticipated++
				mk.leads = append(mk.leads, lead)
			}
			if standing {
				mk.Standing++
			}
			if len(e.Culprits) > 0 {
				mk.WithCulprit++
				if top1 {
					mk.top1++
				}
				if top3 {
					mk.top3++
				}
			}
		}
	}
}

// Episode classes of Metrics.ByOnset.
const (
	OnsetAfterLoadStep = "after_load_step"
	OnsetOther         = "other_onsets"
)

// afterLoadStep reports whether the simulated load stepped up in [onset -
// lead, onset): every tick that could anticipate the episode by lead ended
// before the step's first request, so no detector could see it coming.
func (tr *Trace) afterLoadStep(onsetNs, leadNs int64) bool {
	return tr.load != nil && tr.load.RisesIn(onsetNs-leadNs-tr.StartNs, onsetNs-tr.StartNs)
}

// sub returns (*by)[k], made on first use.
func sub(by *map[string]*Metrics, k string) *Metrics {
	if *by == nil {
		*by = map[string]*Metrics{}
	}
	if (*by)[k] == nil {
		(*by)[k] = &Metrics{}
	}
	return (*by)[k]
}

// rankHits reports whether a culprit is the first, or among the first
// three, services by score. Ranks are pessimistic, as in rankFault: every
// other service scoring at least as much as a culprit ranks ahead of it
// (other culprits aside), so a detector that scores services alike does
// not rank a culprit first by its name's place in the trace.
func rankHits(tr *Trace, score []float32, culprits []string) (top1, top3 bool) {
	// The best-ranked culprit is the one scoring most (NaN least).
	culprit := make([]bool, len(tr.Services))
	found, best := false, float32(math.NaN())
	for c, name := range tr.Services {
		if culprit[c] = slices.Contains(culprits, name); culprit[c] {
			if !found || score[c] > best || best != best {
				best = score[c]
			}
			found = true
		}
	}
	if !found {
		return false, false
	}
	rank := 1
	for s, v := range score {
		if !culprit[s] && !(v < best) {
			rank++
		}
	}
	return rank == 1, rank <= 3
}

// finish computes the ratios.
func (m *Metrics) finish() {
	m.Recall = ratio(m.Anticipated, m.Violations)
	m.RecallStanding = ratio(m.Standing, m.Violations)
	m.Precision = ratio(m.truePos, m.alarms)
	m.FalsePositiveRate = ratio(m.falsePos, m.negatives)
	m.CulpritTop1 = ratio(m.top1, m.WithCulprit)
	m.CulpritTop3 = ratio(m.top3, m.WithCulprit)
	if len(m.leads) > 0 {
		l := slices.Clone(m.leads)
		slices.Sort(l)
		m.LeadMsP50 = l[len(l)/2]
		if len(l)%2 == 0 {
			m.LeadMsP50 = (l[len(l)/2-1] + l[len(l)/2]) / 2
		}
	}
	for _, k := range m.ByKind {
		k.finish()
	}
	for _, k := range m.ByOnset {
		k.finish()
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
