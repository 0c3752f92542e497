package sim

import (
	"fmt"
	"time"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/series"
)

// Controller is a cluster manager in the loop: it sees every tick's series
// and may act through Control. Later issues plug Seer's predictor in here to
// measure the violations it avoids.
type Controller interface {
	OnTick(ctl *Control, startNs int64, samples []series.Sample)
}

// Control is what a Controller may do.
type Control struct {
	s      *Sim
	origin string
}

// Now is the current event time (Unix ns).
func (c *Control) Now() int64 { return c.s.now }

// ScaleOut adds n instances of service; they take requests after delay
// (negative: the service's start-up delay).
func (c *Control) ScaleOut(service string, n int, delay time.Duration) error {
	return c.s.scaleOut(service, n, delay, c.origin)
}

// RemoveContention ends the contention faults (cpu, memory, disk, network)
// acting on service (instance: one instance, empty: all) and returns their
// IDs.
func (c *Control) RemoveContention(service, instance string) []string {
	return c.s.removeContention(service, instance, c.origin)
}

type scheduledAction struct{ a Action }

func (s *Sim) initActions() {
	for _, a := range s.cfg.Actions {
		s.q.push(event{t: s.cfg.Start + int64(a.At), kind: evControl, x: &scheduledAction{a}})
	}
}

func (s *Sim) onControl(x any) {
	switch x := x.(type) {
	case *faultState:
		s.recomputeFaults()
	case *scheduledAction:
		a := x.a
		switch a.Kind {
		case dataset.ActionScaleOut:
			if err := s.scaleOut(a.Service, a.Count, a.Delay, "scenario"); err != nil {
				s.err = err
			}
		case dataset.ActionRemoveContention:
			s.removeContention(a.Service, a.Instance, "scenario")
		}
	}
}

func (s *Sim) scaleOut(service string, n int, delay time.Duration, origin string) error {
	sv := s.byName[service]
	if sv == nil || n < 1 {
		return fmt.Errorf("scale out: unknown service %q or count %d", service, n)
	}
	d := int64(delay)
	if d < 0 {
		d = sv.startup
	}
	for i := 0; i < n; i++ {
		in := s.newInstance(sv)
		s.q.push(event{t: s.now + d, kind: evInstanceReady, x: in})
	}
	s.actions = append(s.actions, dataset.Action{
		Kind: dataset.ActionScaleOut, AtNs: s.now, EffectiveNs: s.now + d, Service: service, Count: n, Origin: origin,
	})
	return nil
}

func (s *Sim) removeContention(service, instance, origin string) []string {
	ids := []string{}
	for _, fs := range s.faults {
		f := &fs.f
		switch f.Kind {
		case dataset.FaultCPU, dataset.FaultMemory, dataset.FaultDisk, dataset.FaultNetworkDelay, dataset.FaultNetworkLoss:
		default:
			continue
		}
		if f.Service != service || (instance != "" && f.Instance != "" && f.Instance != instance) {
			continue
		}
		if f.StartNs <= s.now && s.now < f.EndNs() {
			f.EndedNs = s.now
			ids = append(ids, f.ID)
		}
	}
	s.recomputeFaults()
	s.actions = append(s.actions, dataset.Action{
		Kind: dataset.ActionRemoveContention, AtNs: s.now, EffectiveNs: s.now, Service: service, Instance: instance, FaultIDs: ids, Origin: origin,
	})
	return ids
}
