package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/seer-qos/seer/internal/series"
)

// onTick closes the tick [now-tick, now): series, QoS, fault ramps,
// controller.
func (s *Sim) onTick() {
	start := s.now - s.tick
	if ctx := s.cfg.Context; ctx != nil && ctx.Err() != nil {
		s.err = fmt.Errorf("stopped at %v of simulated time: %w", time.Duration(start-s.cfg.Start), ctx.Err())
		return
	}
	s.samples = s.samples[:0]
	for _, in := range s.instances {
		s.samples = append(s.samples, s.sample(in))
	}
	s.stats.Ticks++
	if s.cfg.OnTick != nil {
		if err := s.cfg.OnTick(start, s.samples); err != nil {
			s.err = fmt.Errorf("tick at %d: %w", start, err)
			return
		}
	}
	s.checkQoS()
	if len(s.faults) > 0 {
		s.recomputeFaults()
	}
	if s.cfg.Controller != nil {
		s.cfg.Controller.OnTick(&Control{s: s, origin: "controller"}, start, s.samples)
	}
	if s.now >= s.end {
		s.stopped = true
		return
	}
	s.q.push(event{t: s.now + s.tick, kind: evTick})
}

// sample closes the tick of one instance and resets its accounting.
func (s *Sim) sample(in *instance) series.Sample {
	s.account(in)
	x := series.Sample{
		Key:           in.key,
		MeanDepth:     in.area / float64(s.tick),
		InstantDepth:  float64(in.outstanding),
		ReportedDepth: math.NaN(),
		NICDepth:      math.NaN(),
		ListenBacklog: math.NaN(),
		Arrivals:      in.arrivals,
		Completions:   in.completions,
		Sources:       series.SourceSpans,
	}
	x.Depth = x.MeanDepth
	if in.repN > 0 {
		x.ReportedDepth = in.repSum / in.repN
		x.Depth = x.ReportedDepth
		x.Sources |= series.SourceReported
	}
	x.Latency, x.Network = in.lat.Latency(), in.net.Latency()
	x.Failed = in.failed
	in.failed = 0
	in.area, in.arrivals, in.completions, in.repSum, in.repN = 0, 0, 0, 0, 0
	in.lat, in.net = series.LatencyAcc{}, series.LatencyAcc{}
	return x
}
