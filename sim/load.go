package sim

import (
	"errors"
	"fmt"
	"math"
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
			if s.Rate < 0 || (i > 0 && s.At < l.Steps[i-1].At) {
				return errors.New("steps need non-negative rates in time order")
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
