package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/seer-qos/seer/sim/topology"
)

// rootLatencies collects end-to-end latencies per request type.
type rootLatencies map[string][]int64

func (r rootLatencies) Span(s *Span) error {
	if s.ParentID == 0 && s.Kind == KindServer {
		r[s.RequestType] = append(r[s.RequestType], s.End-s.Start)
	}
	return nil
}

// CalibrateQoS runs t without faults at rate for d (a pilot run with its
// own seed) and sets every request type's p99 target to factor times the
// p99 it measured, rounded up to the millisecond. Generated topologies use
// it: their analytic targets ignore the variance of long random paths.
func CalibrateQoS(t *topology.Topology, rate float64, d time.Duration, seed uint64, factor float64) error {
	lat := rootLatencies{}
	if _, err := Run(Config{Topology: t, Seed: seed, Duration: d, Load: Load{Rate: rate}, Spans: lat}); err != nil {
		return fmt.Errorf("calibrate qos: %w", err)
	}
	for _, r := range t.Requests {
		xs := lat[r.Name]
		if len(xs) == 0 {
			continue
		}
		p := float64(p99(xs)) * factor
		r.QoS = topology.Duration(time.Duration(math.Ceil(p/1e6)) * time.Millisecond)
	}
	return nil
}
