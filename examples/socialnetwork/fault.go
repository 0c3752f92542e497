package socialnetwork

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Fault kinds.
const (
	FaultCPUHog         = "cpu_hog"
	FaultDelay          = "delay"
	FaultLockContention = "lock_contention"
)

// FaultKinds lists the fault kinds.
var FaultKinds = []string{FaultCPUHog, FaultDelay, FaultLockContention}

// MaxFaultDuration bounds how long one fault acts.
const MaxFaultDuration = time.Hour

// FaultSpec is a fault to inject, as POST /faults takes it.
type FaultSpec struct {
	Kind    string `json:"kind"`
	Service string `json:"service"`
	// Duration is how long the fault acts: a Go duration string ("30s")
	// or a number of seconds.
	Duration Duration `json:"duration"`
	// Magnitude is kind-specific; zero takes the kind's default:
	// cpu_hog: hog goroutines (default the service's worker count);
	// delay: milliseconds added to each request (default 10);
	// lock_contention: fraction of time the lock is held, in (0, 1)
	// (default 0.8).
	Magnitude float64 `json:"magnitude,omitempty"`
	// Ramp is how long the fault takes to reach its full magnitude, as
	// Duration reads it: the magnitude grows linearly from 0 over the
	// ramp, then holds until the end. Contention in production builds up
	// (a growing neighbour, a leak, a filling disk) rather than arriving
	// at once, and a ramp gives a predictor something to see before the
	// QoS violation. Zero is a step: full magnitude from the start.
	Ramp Duration `json:"ramp,omitempty"`
}

// Fault is an injected fault: the ground truth of what happened.
type Fault struct {
	ID string `json:"id"`
	FaultSpec
	// Source is who injected it: "admin" or "scheduler".
	Source string    `json:"source"`
	Start  time.Time `json:"start"`
	// End is when the fault ends (or ended, if removed early).
	End    time.Time `json:"end"`
	Active bool      `json:"active"`
}

// validate checks s against the services and fills the default magnitude.
func (s *FaultSpec) validate(workers func(service string) (int, bool)) error {
	n, ok := workers(s.Service)
	if s.Service == "" {
		return fmt.Errorf("fault: service is required (one of %s)", strings.Join(ServiceNames(), ", "))
	}
	if !ok {
		return fmt.Errorf("fault: unknown service %q (want one of %s)", s.Service, strings.Join(ServiceNames(), ", "))
	}
	if s.Duration <= 0 || time.Duration(s.Duration) > MaxFaultDuration {
		return fmt.Errorf("fault: duration %v must be positive and at most %v", time.Duration(s.Duration), MaxFaultDuration)
	}
	if s.Ramp < 0 || s.Ramp > s.Duration {
		return fmt.Errorf("fault: ramp %v must be between 0 and the duration %v", time.Duration(s.Ramp), time.Duration(s.Duration))
	}
	if s.Magnitude < 0 {
		return fmt.Errorf("fault: magnitude %v is negative", s.Magnitude)
	}
	switch s.Kind {
	case FaultCPUHog:
		if s.Magnitude == 0 {
			s.Magnitude = float64(n)
		}
		if s.Magnitude != float64(int(s.Magnitude)) || s.Magnitude > 1024 {
			return fmt.Errorf("fault: cpu_hog magnitude %v must be a whole number of goroutines up to 1024", s.Magnitude)
		}
	case FaultDelay:
		if s.Magnitude == 0 {
			s.Magnitude = 10
		}
		if s.Magnitude > 60_000 {
			return fmt.Errorf("fault: delay magnitude %vms is above a minute", s.Magnitude)
		}
	case FaultLockContention:
		if s.Magnitude == 0 {
			s.Magnitude = 0.8
		}
		if s.Magnitude >= 1 {
			return fmt.Errorf("fault: lock_contention magnitude %v must be a fraction below 1", s.Magnitude)
		}
	case "":
		return fmt.Errorf("fault: kind is required (one of %s)", strings.Join(FaultKinds, ", "))
	default:
		return fmt.Errorf("fault: unknown kind %q (want one of %s)", s.Kind, strings.Join(FaultKinds, ", "))
	}
	return nil
}

// rampLevel is the fraction of its full magnitude that a fault with the
// given ramp has reached after elapsed: linear from 0 to 1 over the ramp,
// then 1; a zero ramp is a step.
func rampLevel(elapsed, ramp time.Duration) float64 {
	if elapsed >= ramp {
		return 1
	}
	if elapsed <= 0 {
		return 0
	}
	return float64(elapsed) / float64(ramp)
}

// Duration is a time.Duration that reads from JSON as a Go duration string
// or a number of seconds, and writes as a string.
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads "30s" or 30.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration %s: want a string such as \"30s\" or a number of seconds", b)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}
