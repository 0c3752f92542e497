package seerpredictorextension

import (
	"math"
	"slices"
	"time"

	"github.com/seer-qos/seer/predictor"
)

// heuristic is the fallback predictor (see README.md): per service an
// exponentially weighted mean and variance of log1p(queue depth), learned
// online; a service's culprit score is sigmoid(z - margin) of its z-score
// against its own past, the violation probability the highest score.
type heuristic struct {
	halfLife  time.Duration
	margin    float64
	warmup    time.Duration
	stats     map[string]*ewStats
	lastPrune time.Time
}

type ewStats struct {
	mean, variance float64
	seen           time.Duration // event time the service has been scored for
	last           time.Time     // end of the last tick that had the service
}

// forgetHalfLives is how long, in half-lives, a service's statistics outlive
// its last tick: by then the past weighs less than a millionth, and services
// that come and go under new names do not grow the map for good.
const forgetHalfLives = 20

// minStd floors the standard deviation, as FitFeatures does for the model's
// norms: a service whose depth never moved would otherwise score any blip
// as certain.
const minStd = 0.1

// depthRaw is the raw index of the queue depth in a RawTick.
var depthRaw = slices.Index(predictor.FeatureNames, "depth")

func newHeuristic(c HeuristicConfig) *heuristic {
	return &heuristic{halfLife: c.HalfLife, margin: c.Margin, warmup: c.Warmup, stats: map[string]*ewStats{}}
}

// score scores the services of one tick against their past, then learns the
// tick. Services still warming up score 0.
func (h *heuristic) score(rt *predictor.RawTick) (services []string, probs []float32) {
	dt := rt.End.Sub(rt.Start)
	// Weight of the new tick such that a tick's weight halves every halfLife.
	alpha := 1 - math.Exp2(-float64(dt)/float64(h.halfLife))
	services = rt.Services // read only, as History shares them too
	probs = make([]float32, len(services)+1)
	for i, svc := range services {
		x := math.Log1p(float64(rt.Raw(i, depthRaw)))
		st := h.stats[svc]
		if st == nil {
			st = &ewStats{mean: x}
			h.stats[svc] = st
		}
		if st.seen >= h.warmup {
			z := (x - st.mean) / math.Max(math.Sqrt(st.variance), minStd)
			probs[i] = float32(1 / (1 + math.Exp(-(z - h.margin))))
			probs[len(services)] = max(probs[len(services)], probs[i])
		}
		diff := x - st.mean
		st.mean += alpha * diff
		st.variance = (1 - alpha) * (st.variance + alpha*diff*diff)
		st.seen += dt
		st.last = rt.End
	}
	if rt.End.Sub(h.lastPrune) >= h.halfLife { // a pass over the map per half-life
		for svc, st := range h.stats {
			if rt.End.Sub(st.last) >= forgetHalfLives*h.halfLife {
				delete(h.stats, svc)
			}
		}
		h.lastPrune = rt.End
	}
	return services, probs
}
