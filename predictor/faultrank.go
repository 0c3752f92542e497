package predictor

import (
	"cmp"
	"slices"
)

// DefaultFaultRankWindowNs is the default ranking window of RankFaults:
// the first 10 s after injection (100 ticks), long enough to average out
// single-tick noise and well inside a replayed fault's minute.
const DefaultFaultRankWindowNs = 10e9

// FaultRankConfig are the parameters of RankFaults.
type FaultRankConfig struct {
	// Kinds are the fault kinds ranked (dataset kinds: cpu, network_delay,
	// ...); empty: all.
	Kinds []string
	// WindowNs: a detector's ranking of a fault is by each service's mean
	// score over the ticks ending in (injection, injection + WindowNs].
	WindowNs int64
	// FirstTick: ticks before it are not scored (no full window yet).
	FirstTick int
}

// FaultRank is where one detector ranked one fault's service.
type FaultRank struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Type    string `json:"type"` // the source's fault type (Nezha's inject_type), else Kind
	Service string `json:"service"`
	// Rank is 1-based and pessimistic: 1 + the services scoring at least
	// as high as the culprit. 0: the trace has no series of the service.
	Rank int `json:"rank"`
}

// RankMetrics are one detector's culprit ranking figures over faults.
type RankMetrics struct {
	Faults int     `json:"faults"`
	Top1   int     `json:"top1"`
	Top3   int     `json:"top3"`
	Top1R  float64 `json:"top1_ratio"`
	Top3R  float64 `json:"top3_ratio"`
	// ByType breaks the figures down by the source's fault type.
	ByType map[string]*RankMetrics `json:"by_type,omitempty"`
	Ranks  []FaultRank             `json:"ranks,omitempty"`
}

func (m *RankMetrics) add(r FaultRank, byType bool) {
	m.Faults++
	if r.Rank == 1 {
		m.Top1++
	}
	if r.Rank >= 1 && r.Rank <= 3 {
		m.Top3++
	}
	m.Top1R, m.Top3R = ratio(m.Top1, m.Faults), ratio(m.Top3, m.Faults)
	if !byType {
		return
	}
	m.Ranks = append(m.Ranks, r)
	if m.ByType == nil {
		m.ByType = map[string]*RankMetrics{}
	}
	if m.ByType[r.Type] == nil {
		m.ByType[r.Type] = &RankMetrics{}
	}
	m.ByType[r.Type].add(r, false)
}

// FaultRankReport is the fault-ranking evaluation of a model and of the
// threshold baselines on the same traces and faults.
type FaultRankReport struct {
	Traces   int      `json:"traces"`
	Kinds    []string `json:"kinds,omitempty"`
	WindowMs float64  `json:"window_ms"`
	// Skipped counts faults of the ranked kinds whose window has no scored
	// tick in the trace.
	Skipped   int                     `json:"skipped"`
	Seer      *RankMetrics            `json:"seer"`
	Baselines map[string]*RankMetrics `json:"baselines,omitempty"`
}

// FaultRankBaselines are the baselines RankFaults scores: the reactive one
// needs violations to start ranking and the ranking data sets have none.
var FaultRankBaselines = []string{BaselineUtilization, BaselineLatency, BaselineQueueDepth, BaselineNetwork, BaselineFailed}

// RankFaults scores how each detector ranks the service of each fault (of
// cfg.Kinds) at injection: seer holds the model's detections (one per
// trace, from Predictions.Detect); b, when not nil, the baselines.
func RankFaults(traces []*Trace, seer []*Detection, b *Baselines, cfg FaultRankConfig) *FaultRankReport {
	if cfg.WindowNs <= 0 {
		cfg.WindowNs = DefaultFaultRankWindowNs
	}
	r := &FaultRankReport{Traces: len(traces), Kinds: cfg.Kinds, WindowMs: float64(cfg.WindowNs) / 1e6,
		Seer: &RankMetrics{}}
	score := func(m *RankMetrics, dets []*Detection, count bool) {
		for i, tr := range traces {
			for _, f := range tr.Faults {
				if len(cfg.Kinds) > 0 && !slices.Contains(cfg.Kinds, f.Kind) {
					continue
				}
				rank, ok := rankFault(tr, dets[i], f.StartNs, f.Service, cfg)
				if !ok {
					if count {
						r.Skipped++
					}
					continue
				}
				m.add(FaultRank{ID: f.ID, Kind: f.Kind, Type: cmp.Or(f.SourceType, f.Kind),
					Service: f.Service, Rank: rank}, true)
			}
		}
	}
	score(r.Seer, seer, true)
	if b != nil {
		r.Baselines = map[string]*RankMetrics{}
		for _, name := range FaultRankBaselines {
			if !b.has(name) {
				continue
			}
			dets := make([]*Detection, len(traces))
			for i, tr := range traces {
				dets[i] = b.detect(name, tr)
			}
			m := &RankMetrics{}
			score(m, dets, false)
			r.Baselines[name] = m
		}
	}
	return r
}

// rankFault ranks service svc by its mean score over the ticks ending in
// (startNs, startNs + window]; false when no such tick is scored.
func rankFault(tr *Trace, d *Detection, startNs int64, svc string, cfg FaultRankConfig) (int, bool) {
	sum := make([]float64, len(tr.Services)) // the mean times n, the same n for all
	n := 0
	for t := cfg.FirstTick; t < tr.Ticks; t++ {
		end := tr.TickEndNs(t)
		if end <= startNs {
			continue
		}
		if end > startNs+cfg.WindowNs {
			break
		}
		for s, v := range d.Score[t] {
			sum[s] += float64(v)
		}
		n++
	}
	if n == 0 {
		return 0, false
	}
	c := slices.Index(tr.Services, svc)
	if c < 0 {
		return 0, true
	}
	// Pessimistic: ties rank ahead of the culprit, so a detector that
	// scores every service alike ranks it last, not by name order.
	rank := 1
	for s, v := range sum {
		if s != c && v >= sum[c] {
			rank++
		}
	}
	return rank, true
}
