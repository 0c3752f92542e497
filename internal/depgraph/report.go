package depgraph

import (
	"sort"
	"time"
)

// Report lists the design shapes that the Seer paper names as sources of
// hotspots: cyclic dependencies, high fan-out, back-and-forth communication
// and blocking (calls made one after another).
type Report struct {
	Watermark time.Time `json:"watermark"`
	// Cycles are the cyclic dependencies, each from its smallest service.
	Cycles [][]string `json:"cycles"`
	// HighestFanOut is the operation with the most calls per invocation,
	// whatever the threshold; nil without calls.
	HighestFanOut *FanOut `json:"highest_fan_out"`
	// FanOut lists operations at or over the threshold, highest first.
	FanOut []FanOut `json:"fan_out"`
	// BackAndForth lists chatty service pairs, chattiest first.
	BackAndForth []Pair `json:"back_and_forth"`
	// Blocking lists operations that make their calls one after another.
	Blocking []Blocking `json:"blocking"`
}

// FanOut is an operation and the calls its invocations make.
type FanOut struct {
	Service     string   `json:"service"`
	Operation   string   `json:"operation"`
	Invocations uint64   `json:"invocations"`
	Mean        float64  `json:"mean_calls"`
	Max         uint64   `json:"max_calls"`
	Callees     []string `json:"callees"`
}

// Pair is two services calling each other a lot within requests.
type Pair struct {
	A             string  `json:"a"`
	B             string  `json:"b"`
	Traces        uint64  `json:"traces"`
	CallsPerTrace float64 `json:"calls_per_trace"`
	// BothWaysFraction is the share of those traces with calls both ways.
	BothWaysFraction float64 `json:"both_ways_fraction"`
}

// Blocking is an operation whose calls run one after another although
// nothing in the traces shows that they depend on each other (a heuristic:
// data dependencies are invisible in spans).
type Blocking struct {
	Service            string  `json:"service"`
	Operation          string  `json:"operation"`
	MultiCall          uint64  `json:"multi_call_invocations"`
	SequentialFraction float64 `json:"sequential_fraction"`
	// SavableMS is the mean time per sequential invocation that running its
	// calls concurrently would save (sum of call times - the longest).
	SavableMS float64 `json:"savable_ms"`
}

// Hotspots returns the design hotspot report.
func (g *Graph) Hotspots() Report {
	g.mu.Lock()
	defer g.mu.Unlock()
	snap := g.snapshot()
	r := Report{Watermark: snap.Watermark, Cycles: snap.Cycles, FanOut: []FanOut{}, BackAndForth: []Pair{}, Blocking: []Blocking{}}
	minInv := uint64(g.cfg.MinInvocations)
	for _, s := range snap.Services {
		for _, o := range s.Operations {
			if o.Calls == 0 {
				continue
			}
			f := FanOut{Service: s.Name, Operation: o.Name, Invocations: o.Invocations, Mean: o.FanOutMean, Max: o.FanOutMax, Callees: o.Callees}
			if r.HighestFanOut == nil || f.Mean > r.HighestFanOut.Mean {
				hf := f
				r.HighestFanOut = &hf
			}
			// Evidence is what was analysed, not the counts scaled back up
			// for graph.sample_ratio (as for the pairs below).
			st := g.services[s.Name].ops[o.Name]
			if f.Mean >= g.cfg.FanOutThreshold && st.invocations >= minInv {
				r.FanOut = append(r.FanOut, f)
			}
			if st.multiCall >= minInv && o.SequentialFraction >= g.cfg.BlockingMinFraction {
				r.Blocking = append(r.Blocking, Blocking{Service: s.Name, Operation: o.Name, MultiCall: o.MultiCall,
					SequentialFraction: o.SequentialFraction, SavableMS: st.savableNs / float64(st.sequential) / 1e6})
			}
		}
	}
	for k, p := range g.pairs {
		if p.traces < minInv {
			continue
		}
		cpt := float64(p.calls) / float64(p.traces)
		if cpt >= g.cfg.ChattyCallsPerTrace || p.bothWays > 0 {
			r.BackAndForth = append(r.BackAndForth, Pair{A: k.a.name, B: k.b.name, Traces: p.traces, CallsPerTrace: cpt,
				BothWaysFraction: float64(p.bothWays) / float64(p.traces)})
		}
	}
	sort.Slice(r.FanOut, func(i, j int) bool {
		return less(r.FanOut[i].Mean, r.FanOut[j].Mean, r.FanOut[i].Service+" "+r.FanOut[i].Operation, r.FanOut[j].Service+" "+r.FanOut[j].Operation)
	})
	sort.Slice(r.BackAndForth, func(i, j int) bool {
		return less(r.BackAndForth[i].CallsPerTrace, r.BackAndForth[j].CallsPerTrace, r.BackAndForth[i].A+" "+r.BackAndForth[i].B, r.BackAndForth[j].A+" "+r.BackAndForth[j].B)
	})
	sort.Slice(r.Blocking, func(i, j int) bool {
		return less(r.Blocking[i].SavableMS, r.Blocking[j].SavableMS, r.Blocking[i].Service+" "+r.Blocking[i].Operation, r.Blocking[j].Service+" "+r.Blocking[j].Operation)
	})
	return r
}

// less orders by value descending, then by name.
func less(a, b float64, na, nb string) bool {
	if a != b {
		return a > b
	}
	return na < nb
}
