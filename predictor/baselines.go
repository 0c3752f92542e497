package predictor

import (
	"math"
	"slices"
)

// Baseline names, as they appear under "baselines" in reports.
const (
	BaselineUtilization = "utilization_threshold"
	BaselineLatency     = "latency_threshold"
	BaselineQueueDepth  = "queue_depth_threshold"
	BaselineNetwork     = "network_threshold"
	BaselineFailed      = "failed_threshold"
	BaselineReactive    = "reactive"
)

// baselineRaw is the raw quantity each threshold baseline watches.
var baselineRaw = map[string]int{
	BaselineUtilization: rawUtilization,
	BaselineLatency:     rawLatency,
	BaselineQueueDepth:  rawDepth,
	BaselineNetwork:     rawNetwork,
	BaselineFailed:      rawFailed,
}

// Baselines are per-service thresholds calibrated on the training data: for
// each watched quantity, the quantile Quantile of a service's values over
// the ticks with no violation under way within the horizon, the smallest
// quantile (of a fixed grid) whose training false-positive rate is at most
// MaxFPR. A baseline warns when any service is above its threshold and
// ranks services by value/threshold.
type Baselines struct {
	MaxFPR     float64                       `json:"max_fpr"`
	Quantile   map[string]float64            `json:"quantile"`
	Thresholds map[string]map[string]float64 `json:"thresholds"` // baseline -> service -> threshold
}

var quantileGrid = []float64{0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 1}

// CalibrateBaselines fits the threshold baselines on traces.
func CalibrateBaselines(traces []*Trace, horizonNs int64, firstTick int, maxFPR float64) *Baselines {
	b := &Baselines{MaxFPR: maxFPR, Quantile: map[string]float64{}, Thresholds: map[string]map[string]float64{}}
	labels := make([]Labels, len(traces))
	for i, tr := range traces {
		labels[i] = tr.Labels(horizonNs)
	}
	for name, q := range baselineRaw {
		vals := map[string][]float64{}
		for i, tr := range traces {
			for t := firstTick; t < tr.Ticks; t++ {
				if labels[i].Violation[t] {
					continue
				}
				for s, svc := range tr.Services {
					vals[svc] = append(vals[svc], float64(tr.Raw(t, s, q)))
				}
			}
		}
		for svc := range vals {
			slices.Sort(vals[svc])
		}
		for _, qu := range quantileGrid {
			thr := map[string]float64{}
			for svc, v := range vals {
				if len(v) == 0 {
					continue
				}
				x := v[min(len(v)-1, int(qu*float64(len(v))))]
				if qu == 1 {
					x = v[len(v)-1] * 1.0001
				}
				thr[svc] = max(x, 1e-9)
			}
			b.Quantile[name], b.Thresholds[name] = qu, thr
			var neg, fp int
			for i, tr := range traces {
				d := b.detect(name, tr)
				for t := firstTick; t < tr.Ticks; t++ {
					if !labels[i].Violation[t] {
						neg++
						if d.Alarm[t] {
							fp++
						}
					}
				}
			}
			if ratio(fp, neg) <= maxFPR {
				break
			}
		}
	}
	return b
}

// detect runs one baseline on a trace.
func (b *Baselines) detect(name string, tr *Trace) *Detection {
	d := &Detection{Alarm: make([]bool, tr.Ticks), Score: make([][]float32, tr.Ticks)}
	if name == BaselineReactive {
		// Perfect after-the-fact detection: it warns while the end-to-end
		// p99 is above target, and ranks services by queue depth over their
		// threshold at that moment.
		eps := tr.Episodes()
		depth := b.detect(BaselineQueueDepth, tr)
		for t := range tr.Ticks {
			d.Alarm[t] = inViolation(eps, tr.TickEndNs(t))
			d.Score[t] = depth.Score[t]
		}
		d.Reactive = true
		return d
	}
	q, thr := baselineRaw[name], b.Thresholds[name]
	for t := range tr.Ticks {
		sc := make([]float32, len(tr.Services))
		for s, svc := range tr.Services {
			if th, ok := thr[svc]; ok {
				sc[s] = over(tr.Raw(t, s, q), float32(th))
				d.Alarm[t] = d.Alarm[t] || sc[s] > 1
			}
		}
		d.Score[t] = sc
	}
	return d
}

// over is v/th; with a zero threshold (a quantity that was always 0, such as
// the network time of a service nobody calls), any value above it is
// infinitely over, and 0 is not over (not the NaN of 0/0, which would rank
// first).
func over(v, th float32) float32 {
	switch {
	case th > 0:
		return v / th
	case v > th:
		return float32(math.Inf(1))
	}
	return 0
}

// BaselineNames lists the baselines in report order.
var BaselineNames = []string{BaselineUtilization, BaselineLatency, BaselineQueueDepth, BaselineNetwork, BaselineFailed, BaselineReactive}

// has reports whether baseline name can run: the reactive one always, a
// threshold one when calibrated (models trained before network_threshold
// or failed_threshold existed have no thresholds for them, and they are
// left out of their reports).
func (b *Baselines) has(name string) bool {
	return name == BaselineReactive || b.Thresholds[name] != nil
}
