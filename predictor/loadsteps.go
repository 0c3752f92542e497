package predictor

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxLoadSteps bounds the bursts of a manifest (a 1 ns period over an hour
// would be 3.6e12 of them).
const maxLoadSteps = 1 << 20

// loadSteps returns the offsets from the start (ns) at which the offered
// load steps up, from a simulated dataset's manifest params (sim's Load:
// pattern, period, burst_length, burst_factor, stepN = "AT=RATE"), for
// offsets below durNs. Data without a load pattern (replays, live history)
// and the smooth patterns (constant, diurnal) have none.
func loadSteps(params map[string]string, durNs int64) ([]int64, error) {
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
	var steps []int64
	switch params["pattern"] {
	case "burst":
		period, err := dur("period")
		if err != nil {
			return nil, err
		}
		length, err := dur("burst_length")
		if err != nil {
			return nil, err
		}
		factor, err := num("burst_factor", params["burst_factor"])
		if err != nil {
			return nil, err
		}
		// The rate is rate*factor for the first burst_length of every
		// period: it steps up as a burst starts (factor > 1) or ends (< 1).
		var phase int64
		switch {
		case factor > 1:
		case factor < 1:
			phase = length
		default:
			return nil, nil
		}
		if durNs/period > maxLoadSteps {
			return nil, fmt.Errorf("period %s makes more than %d bursts", params["period"], maxLoadSteps)
		}
		for t := phase; t < durNs; t += period {
			steps = append(steps, t)
		}
	case "step":
		rate, err := num("rate", params["rate"])
		if err != nil {
			return nil, err
		}
		for i := 0; ; i++ {
			k := "step" + strconv.Itoa(i)
			v, ok := params[k]
			if !ok {
				break
			}
			at, r, ok := strings.Cut(v, "=")
			d, err := time.ParseDuration(at)
			if !ok || err != nil || d < 0 {
				return nil, fmt.Errorf("%s %q is not AT=RATE with AT >= 0", k, v)
			}
			next, err := num(k, r)
			if err != nil {
				return nil, err
			}
			if next > rate && int64(d) < durNs {
				steps = append(steps, int64(d))
			}
			rate = next
		}
	}
	return steps, nil
}

// afterLoadStep reports whether the load stepped up in [onset - lead,
// onset): every tick that could anticipate the episode by lead ended
// before the step's first request, so no detector could see it coming.
func (tr *Trace) afterLoadStep(onsetNs, leadNs int64) bool {
	for _, s := range tr.LoadStepsNs {
		if s >= onsetNs-leadNs && s < onsetNs {
			return true
		}
	}
	return false
}
