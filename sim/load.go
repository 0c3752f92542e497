package sim

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Load patterns.
const (
	PatternConstant = "constant"
	PatternDiurnal  = "diurnal"
	PatternStep     = "step"
	PatternBurst    = "burst"
)

// Load is the open-loop arrival process: Poisson with a time-varying rate.
type Load struct {
	// Rate is the base rate in requests per second.
	Rate float64
	// Pattern is constant, diurnal, step or burst.
	Pattern string
	// Diurnal: rate*(1 + Amplitude*sin(2*pi*t/Period)).
	Amplitude float64
	Period    time.Duration
	// Step: the rate becomes Steps[i].Rate from offset Steps[i].At on.
	Steps []Step
	// Burst: every Period, for BurstLength, the rate is multiplied by
	// BurstFactor.
	BurstLength time.Duration
	BurstFactor float64
	// Mix overrides the topology's request weights by request name.
	Mix map[string]float64
}

// Step is one change of rate.
type Step struct {
	At   time.Duration
	Rate float64
}

func (l *Load) validate() error {
	if !(l.Rate > 0) || math.IsInf(l.Rate, 0) {
		return fmt.Errorf("rate must be positive, got %v", l.Rate)
	}
	switch l.Pattern {
	case PatternConstant:
	case PatternDiurnal:
		if l.Period <= 0 || l.Amplitude < 0 || l.Amplitude > 1 {
			return errors.New("diurnal needs a positive period and an amplitude in [0,1]")
		}
	case PatternStep:
		for i, s := range l.Steps {
			if s.Rate < 0 || s.At < 0 || (i > 0 && s.At < l.Steps[i-1].At) {
				return errors.New("steps need non-negative rates and times, in time order")
			}
		}
	case PatternBurst:
		if l.Period <= 0 || l.BurstLength <= 0 || l.BurstLength > l.Period || l.BurstFactor < 0 {
			return errors.New("burst needs 0 < burst length <= period and a non-negative factor")
		}
	default:
		return fmt.Errorf("unknown pattern %q", l.Pattern)
	}
	for k, w := range l.Mix {
		if w < 0 {
			return fmt.Errorf("mix weight of %s is negative", k)
		}
	}
	return nil
}

// rateAt is the pattern's rate at offset t (ns) from the start.
func (l *Load) rateAt(t int64) float64 {
	switch l.Pattern {
	case PatternDiurnal:
		return l.Rate * (1 + l.Amplitude*math.Sin(2*math.Pi*float64(t)/float64(l.Period)))
	case PatternStep:
		r := l.Rate
		for _, s := range l.Steps {
			if int64(s.At) <= t {
				r = s.Rate
			}
		}
		return r
	case PatternBurst:
		if t%int64(l.Period) < int64(l.BurstLength) {
			return l.Rate * l.BurstFactor
		}
	}
	return l.Rate
}

// RisesIn reports whether the rate (rateAt) steps up at some offset in
// [lo, hi) (ns from the start): a step to a higher rate, or where a burst
// starts (factor above 1) or ends (below 1), the first burst's start at 0
// included. Constant and diurnal loads never step; nor does a burst as
// long as its period.
func (l *Load) RisesIn(lo, hi int64) bool {
	switch l.Pattern {
	case PatternStep:
		for _, s := range l.Steps {
			if t := int64(s.At); t >= lo && t < hi && l.rateAt(t) > l.rateAt(t-1) {
				return true
			}
		}
	case PatternBurst:
		// Bursts are a rule, phase + k*period for k >= 0, not a list: a 1 ms
		// period over an hour would be 3.6 million steps.
		period, phase := int64(l.Period), int64(0) // a burst starts
		if l.BurstFactor < 1 {
			phase = int64(l.BurstLength) // a burst ends
		}
		if l.BurstLength == l.Period || l.BurstFactor == 1 || hi <= phase {
			return false
		}
		if lo <= phase {
			return true
		}
		s := phase + (lo-phase)/period*period // the last step at or before lo
		return s == lo || period < hi-s       // it, or the next one (s + period < hi, without overflow)
	}
	return false
}

// LoadFromParams reads a Load back from a dataset manifest's params, as
// Run writes them (loadParams; Mix is not among them).
func LoadFromParams(p map[string]string) (Load, error) {
	var l Load
	var err error
	num := func(k string) float64 {
		f, e := strconv.ParseFloat(p[k], 64)
		if e != nil && err == nil {
			err = fmt.Errorf("%s %q is not a number", k, p[k])
		}
		return f
	}
	dur := func(k string) time.Duration {
		d, e := time.ParseDuration(p[k])
		if e != nil && err == nil {
			err = fmt.Errorf("%s %q is not a duration", k, p[k])
		}
		return d
	}
	l.Pattern, l.Rate = p["pattern"], num("rate")
	switch l.Pattern {
	case PatternDiurnal:
		l.Amplitude, l.Period = num("amplitude"), dur("period")
	case PatternBurst:
		l.Period, l.BurstLength, l.BurstFactor = dur("period"), dur("burst_length"), num("burst_factor")
	case PatternStep:
		for i := 0; ; i++ {
			k := "step" + strconv.Itoa(i)
			v, ok := p[k]
			if !ok {
				break
			}
			at, rate, ok := strings.Cut(v, "=")
			d, e := time.ParseDuration(at)
			r, e2 := strconv.ParseFloat(rate, 64)
			if !ok || e != nil || e2 != nil {
				return l, fmt.Errorf("%s %q is not AT=RATE", k, v)
			}
			l.Steps = append(l.Steps, Step{At: d, Rate: r})
		}
	}
	if err != nil {
		return l, err
	}
	if err := l.validate(); err != nil {
		return l, fmt.Errorf("load params: %w", err)
	}
	return l, nil
}

// maxRate bounds rateAt.
func (l *Load) maxRate() float64 {
	switch l.Pattern {
	case PatternDiurnal:
		return l.Rate * (1 + l.Amplitude)
	case PatternStep:
		m := l.Rate
		for _, s := range l.Steps {
			m = math.Max(m, s.Rate)
		}
		return m
	case PatternBurst:
		return l.Rate * math.Max(1, l.BurstFactor)
	}
	return l.Rate
}
