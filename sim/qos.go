package sim

import (
	"fmt"
	"slices"

	"github.com/seer-qos/seer/dataset"
)

// drainNs is how long after a fault ends a violation is still put down to
// it: the time queues take to empty.
const drainNs = int64(5e9)

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
	for _, rt := range s.types {
		buf := rt.scratch[:0]
		for _, w := range rt.window {
			buf = append(buf, w...)
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
}

// finishViolations closes open intervals and puts each down to the faults
// that had started by its start and still acted (or were draining) in the
// window before it: started at or before start, ended at or after
// start - window - drain. A fault that starts after a violation has
// started did not cause it, even if it prolongs it.
func (s *Sim) finishViolations(faults []dataset.Fault) []dataset.Violation {
	for _, rt := range s.types {
		if rt.active {
			s.closeViolation(rt, s.end)
		}
	}
	vs := s.viol
	slices.SortStableFunc(vs, func(a, b dataset.Violation) int {
		if a.StartNs != b.StartNs {
			if a.StartNs < b.StartNs {
				return -1
			}
			return 1
		}
		return 0
	})
	window := int64(s.cfg.QoSWindow)
	for i := range vs {
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
