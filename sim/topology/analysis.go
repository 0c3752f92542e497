package topology

import (
	"fmt"
	"math"
	"sort"
)

// OpKey names one operation of one service.
type OpKey struct{ Service, Op string }

// VisitRates returns the expected visits per second of every operation when
// requests arrive at rate per second with the topology's mix, taking call
// probabilities and cache hit ratios into account (cycles included).
func (t *Topology) VisitRates(rate float64) (map[OpKey]float64, error) {
	idx := map[OpKey]int{}
	var keys []OpKey
	for _, s := range t.Services {
		for _, o := range s.Operations {
			idx[OpKey{s.Name, o.Name}] = len(keys)
			keys = append(keys, OpKey{s.Name, o.Name})
		}
	}
	n := len(keys)
	// calls[i] lists (callee, expected count per execution of i).
	type out struct {
		j int
		w float64
	}
	calls := make([][]out, n)
	for _, s := range t.Services {
		for _, o := range s.Operations {
			i := idx[OpKey{s.Name, o.Name}]
			var walk func(steps []Step, w float64)
			walk = func(steps []Step, w float64) {
				for _, st := range steps {
					cs := st.Parallel
					if st.Call != nil {
						cs = []*Call{st.Call}
					}
					for _, c := range cs {
						j, ok := idx[OpKey{c.Service, c.Op}]
						if !ok {
							continue
						}
						calls[i] = append(calls[i], out{j, w * c.Prob()})
						if c.HitRatio != nil {
							walk(c.OnMiss, w*c.Prob()*(1-*c.HitRatio))
						}
					}
				}
			}
			walk(o.Calls, 1)
		}
	}
	var total float64
	for _, r := range t.Requests {
		total += r.Weight
	}
	entry := make([]float64, n)
	for _, r := range t.Requests {
		if j, ok := idx[OpKey{r.Service, r.Op}]; ok {
			entry[j] += rate * r.Weight / total
		}
	}
	v := append([]float64(nil), entry...)
	next := make([]float64, n)
	for it := 0; ; it++ {
		copy(next, entry)
		for i := range calls {
			for _, c := range calls[i] {
				next[c.j] += v[i] * c.w
			}
		}
		diff := 0.0
		for i := range v {
			diff = math.Max(diff, math.Abs(next[i]-v[i])/math.Max(1e-12, math.Abs(next[i])))
		}
		v, next = next, v
		if diff < 1e-12 {
			break
		}
		if it > 100000 || math.IsInf(v[0], 0) {
			return nil, fmt.Errorf("call cycles do not settle: expected visits per request grow without bound")
		}
	}
	res := make(map[OpKey]float64, n)
	for i, k := range keys {
		res[k] = v[i]
	}
	return res, nil
}

// ServiceLoad is the expected load of one service at a given request rate.
type ServiceLoad struct {
	Service string
	// Visits per second over all instances.
	Visits float64
	// Utilization is the compute time offered per second divided by
	// instances*cores: queueing for cores grows without bound near 1.
	Utilization float64
}

// Loads returns the expected load of every service at rate requests/s, in
// topology order.
func (t *Topology) Loads(rate float64) ([]ServiceLoad, error) {
	v, err := t.VisitRates(rate)
	if err != nil {
		return nil, err
	}
	var res []ServiceLoad
	for _, s := range t.Services {
		l := ServiceLoad{Service: s.Name}
		work := 0.0
		for _, o := range s.Operations {
			x := v[OpKey{s.Name, o.Name}]
			l.Visits += x
			work += x * o.ServiceTime.MeanDuration() / 1e9
		}
		l.Utilization = work / float64(s.Instances*min(s.Cores, s.Workers))
		res = append(res, l)
	}
	return res, nil
}

// Edge is one caller -> callee dependency of the call graph.
type Edge struct{ Caller, Callee, Op string }

// Edges returns the static call graph, sorted.
func (t *Topology) Edges() []Edge {
	set := map[Edge]bool{}
	for _, s := range t.Services {
		for _, o := range s.Operations {
			walkCalls(o.Calls, func(c *Call) { set[Edge{s.Name, c.Service, c.Op}] = true }, nil)
		}
	}
	var es []Edge
	for e := range set {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Caller != b.Caller {
			return a.Caller < b.Caller
		}
		if a.Callee != b.Callee {
			return a.Callee < b.Callee
		}
		return a.Op < b.Op
	})
	return es
}
