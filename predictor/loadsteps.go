package predictor

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// loadSteps are the offsets from a trace's start (ns) at which the
// simulated load steps up: a step pattern's rises, listed, and a burst
// pattern's, phase + k*period for k >= 0 (kept as a rule: a 1 ms period
// over an hour would be 3.6 million of them).
type loadSteps struct {
	at            []int64
	period, phase int64 // bursts; period 0: none
}

// parseLoadSteps reads the load steps below durNs from a simulated
// dataset's manifest params (sim's Load: pattern, rate, period,
// burst_length, burst_factor, stepN = "AT=RATE"). Data without a load
// pattern (replays, live history) and the smooth patterns (constant,
// diurnal) have none.
func parseLoadSteps(params map[string]string, durNs int64) (loadSteps, error) {
	var l loadSteps
	dur := func(k string) (int64, error) {
		d, err := time.ParseDuration(params[k])
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%s %q is not a positive duration", k, params[k])
		}
		return int64(d), nil
	}
	num := func(k, v string) (float64, error) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("%s %q is not a number", k, v)
		}
		return f, nil
	}
	switch params["pattern"] {
	case "burst":
		period, err := dur("period")
		if err != nil {
			return l, err
		}
		length, err := dur("burst_length")
		if err != nil {
			return l, err
		}
		factor, err := num("burst_factor", params["burst_factor"])
		if err != nil {
			return l, err
		}
		// The rate is rate*factor for the first burst_length of every
		// period: it steps up as a burst starts (factor > 1) or ends (< 1);
		// a burst as long as its period leaves the load constant.
		switch {
		case length >= period || factor == 1:
		case factor > 1:
			l.period = period
		default:
			l.period, l.phase = period, length
		}
	case "step":
		rate, err := num("rate", params["rate"])
		if err != nil {
			return l, err
		}
		type step struct {
			at   int64
			rate float64
		}
		var steps []step
		for i := 0; ; i++ {
			k := "step" + strconv.Itoa(i)
			v, ok := params[k]
			if !ok {
				break
			}
			at, r, ok := strings.Cut(v, "=")
			d, err := time.ParseDuration(at)
			if !ok || err != nil || d < 0 {
				return l, fmt.Errorf("%s %q is not AT=RATE with AT >= 0", k, v)
			}
			next, err := num(k, r)
			if err != nil {
				return l, err
			}
			if len(steps) > 0 && int64(d) < steps[len(steps)-1].at {
				return l, fmt.Errorf("%s %q is before the step above it", k, v)
			}
			steps = append(steps, step{int64(d), next})
		}
		for i, s := range steps {
			if i+1 < len(steps) && steps[i+1].at == s.at {
				continue // the last step at a time sets the rate (sim's rateAt)
			}
			if s.rate > rate && s.at < durNs {
				l.at = append(l.at, s.at)
			}
			rate = s.rate
		}
	}
	return l, nil
}

// within reports whether the load steps up at some offset in [lo, hi).
func (l loadSteps) within(lo, hi int64) bool {
	for _, s := range l.at {
		if s >= lo && s < hi {
			return true
		}
	}
	if l.period == 0 || hi <= l.phase {
		return false
	}
	if lo <= l.phase {
		return true // the first burst step, at phase, is in [lo, hi)
	}
	s := l.phase + (lo-l.phase)/l.period*l.period // the last step at or before lo
	return s == lo || l.period < hi-s             // it, or the next one (s + period < hi)
}

// afterLoadStep reports whether the load stepped up in [onset - lead,
// onset): every tick that could anticipate the episode by lead ended
// before the step's first request, so no detector could see it coming.
func (tr *Trace) afterLoadStep(onsetNs, leadNs int64) bool {
	return tr.loadSteps.within(onsetNs-leadNs-tr.StartNs, onsetNs-tr.StartNs)
}
