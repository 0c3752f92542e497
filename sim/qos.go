package sim

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/seer-qos/seer/dataset"
)

// drainNs is how long after a fault ends a violation is still put down to
// it: the time queues take to empty.
const drainNs = int64(5e9)

// QoSMaxWindowFactor bounds how far back a window may reach for
// Config.QoSMinRequests: this many times QoSWindow (10 s at the default 1 s),
// so that a request type too rare to fill it still gets a p99.
const QoSMaxWindowFactor = 10

// qosTicks is the ticks of QoSWindow.
func (s *Sim) qosTicks() int { return max(1, int(s.cfg.QoSWindow/s.cfg.Tick)) }

// qosWindowFactor is how many QoSWindows of ticks a request type keeps.
func qosWindowFactor(c *Config) int {
	if c.QoSMinRequests > 0 {
		return QoSMaxWindowFactor
	}
	return 1
}

// p99 is the nearest-rank 99th percentile of xs (sorted in place).
func p99(xs []int64) int64 {
	slices.Sort(xs)
	return rank(xs, 99)
}

// rank is the nearest-rank q-th percentile of sorted xs.
func rank(xs []int64, q int) int64 {
	k := (q*len(xs) + 99) / 100 // ceil(q/100 n)
	return xs[max(k, 1)-1]
}

// checkQoS evaluates the sliding window of every request type at the end of
// a tick and rotates the window.
func (s *Sim) checkQoS() {
	base := s.qosTicks()
	for _, rt := range s.types {
		// Newest tick first: the last QoSWindow, then older ticks while the
		// window holds fewer than QoSMinRequests.
		buf := rt.scratch[:0]
		ticks := 0
		for i := len(rt.window) - 1; i >= 0 && (ticks < base || len(buf) < s.cfg.QoSMinRequests); i-- {
			buf = append(buf, rt.window[i]...)
			ticks++
		}
		rt.scratch = buf
		var p, p50 int64
		if len(buf) > 0 {
			p = p99(buf)
			p50 = rank(buf, 50)
		}
		if s.cfg.OnQoS != nil {
			pt := dataset.QoSPoint{EndNs: s.now, RequestType: rt.name, WindowCount: int64(len(buf)), P50Ns: p50, P99Ns: p, TargetNs: rt.target,
				Violated: rt.target > 0 && len(buf) > 0 && p > rt.target}
			if err := s.cfg.OnQoS(pt); err != nil && s.err == nil {
				s.err = fmt.Errorf("qos at %d: %w", s.now, err)
			}
		}
		if rt.target > 0 && len(buf) > 0 {
			if p > rt.target {
				if !rt.active {
					rt.active, rt.vStart, rt.vPeak = true, s.now, p
					rt.vWin = int64(ticks) * int64(s.cfg.Tick)
				}
				rt.vPeak = max(rt.vPeak, p)
			} else if rt.active {
				s.closeViolation(rt, s.now)
			}
		} else if rt.active {
			s.closeViolation(rt, s.now)
		}
		oldest := rt.window[0]
		copy(rt.window, rt.window[1:])
		rt.window[len(rt.window)-1] = oldest[:0]
	}
}

func (s *Sim) closeViolation(rt *reqType, end int64) {
	rt.active = false
	s.viol = append(s.viol, dataset.Violation{
		RequestType: rt.name, StartNs: rt.vStart, EndNs: end, TargetNs: rt.target, PeakP99Ns: rt.vPeak,
	})
	s.violWin = append(s.violWin, rt.vWin)
}

// finishViolations closes open intervals and puts each down to the faults
// that had started by its start and still acted (or were draining) in the
// window before it: started at or before start, ended at or after
// start - window - drain, where window is the one the p99 was taken over at
// the start (longer than QoSWindow for rare types with QoSMinRequests). A
// fault that starts after a violation has started did not cause it, even
// if it prolongs it.
func (s *Sim) finishViolations(faults []dataset.Fault) []dataset.Violation {
	for _, rt := range s.types {
		if rt.active {
			s.closeViolation(rt, s.end)
		}
	}
	order := make([]int, len(s.viol))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(s.viol[a].StartNs, s.viol[b].StartNs) })
	vs := make([]dataset.Violation, len(order))
	for i, j := range order {
		vs[i] = s.viol[j]
		window := int64(s.cfg.QoSWindow)
		if j < len(s.violWin) {
			window = max(window, s.violWin[j])
		}
		v := &vs[i]
		v.FaultIDs, v.Culprits, v.Cause = []string{}, []dataset.SeriesKey{}, "unknown"
		for _, f := range faults {
			if f.StartNs <= v.StartNs && f.EndNs()+drainNs >= v.StartNs-window {
				v.FaultIDs = append(v.FaultIDs, f.ID)
				v.Culprits = append(v.Culprits, dataset.SeriesKey{Service: f.Service, Instance: f.Instance})
				v.Cause = "fault"
			}
		}
	}
	return vs
}
