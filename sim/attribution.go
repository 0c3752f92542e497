package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/seer-qos/seer/dataset"
)

// Attribution rules: how a violation is put down to the faults behind it.
const (
	// AttributionButFor (the default) keeps, of the faults the window rule
	// names, those without which the violation would not have happened: the
	// same run with the fault at magnitude 0 (same seed and draws, hence
	// the same arrivals) has no violation of the request type over at least
	// half of it. Faults that each suffice alone (and so fail the test one
	// by one) are kept when the violation goes without all of them. A mild
	// fault that happens to act while the load alone breaks the target is
	// not its culprit. It costs one more run per fault the window rule names.
	AttributionButFor = "but-for"
	// AttributionWindow names every fault acting in the window before the
	// violation (finishViolations).
	AttributionWindow = "window"
)

// attributeButFor reruns c without each fault the window rule named in
// res.Violations and drops it from the violations that happen without it.
// Runs with a Controller cannot use it (Config.validate): a controller acts
// on what it sees, so the run without the fault would not be the same run
// less the fault.
func attributeButFor(c Config, res *Result) error {
	named := map[string]bool{}
	for _, v := range res.Violations {
		for _, id := range v.FaultIDs {
			named[id] = true
		}
	}
	before := make([]dataset.Violation, len(res.Violations))
	for j, v := range res.Violations {
		before[j] = v
		before[j].FaultIDs, before[j].Culprits = slices.Clone(v.FaultIDs), slices.Clone(v.Culprits)
	}
	tick := int64(c.Tick)
	for _, f := range c.Faults {
		if !named[f.ID] {
			continue
		}
		without, err := runWithout(c, f.ID)
		if err != nil {
			return err
		}
		dropIfNotNeeded(res.Violations, f.ID, without, tick)
	}
	// Faults that each suffice (two contentions on one service) all fail
	// the test one by one: a violation that lost every fault gets them back
	// if it goes away without all of them together. One rerun per set of
	// faults, in the order the sets first appear.
	type group struct {
		ids []string
		vs  []int
	}
	var groups []group
	for j, v := range res.Violations {
		ids := before[j].FaultIDs
		if len(ids) < 2 || len(v.FaultIDs) > 0 {
			continue
		}
		g := slices.IndexFunc(groups, func(g group) bool { return slices.Equal(g.ids, ids) })
		if g < 0 {
			groups, g = append(groups, group{ids: ids}), len(groups)
		}
		groups[g].vs = append(groups[g].vs, j)
	}
	for _, g := range groups {
		without, err := runWithout(c, g.ids...)
		if err != nil {
			return err
		}
		for _, j := range g.vs {
			if !happens(&res.Violations[j], without, tick) {
				res.Violations[j] = before[j]
			}
		}
	}
	return nil
}

// runWithout reruns c with the faults ids acting at magnitude 0 and returns
// its violations. It keeps the run the same sample where the faults do not
// act: the arrivals keep their thinning bound (a load surge's magnitude
// raises it, and with it every arrival draw), and spans go to a sink that
// drops them when c has one (trace IDs are drawn only for spans sent).
func runWithout(c Config, ids ...string) ([]dataset.Violation, error) {
	without, err := Run(withoutFaults(c, ids...))
	if err != nil {
		return nil, fmt.Errorf("run without fault %s: %w", strings.Join(ids, ", "), err)
	}
	return without.Violations, nil
}

// withoutFaults is the configuration of runWithout.
func withoutFaults(c Config, ids ...string) Config {
	cf := c
	cf.Faults = slices.Clone(c.Faults)
	for i := range cf.Faults {
		if slices.Contains(ids, cf.Faults[i].ID) {
			cf.Faults[i].Magnitude = 0
		}
	}
	cf.surgeBound = max(c.surgeBound, surgeSum(c.Faults))
	cf.Attribution = AttributionWindow
	cf.OnTick, cf.OnQoS = nil, nil
	if c.Spans != nil {
		cf.Spans = SpanFunc(func(*Span) error { return nil })
	}
	return cf
}

// dropIfNotNeeded removes fault id from each violation of vs that happens
// in the run without it too (its violations: without).
func dropIfNotNeeded(vs []dataset.Violation, id string, without []dataset.Violation, tick int64) {
	for j := range vs {
		v := &vs[j]
		k := slices.Index(v.FaultIDs, id)
		if k < 0 || !happens(v, without, tick) {
			continue
		}
		// FaultIDs and Culprits are built in step (finishViolations).
		v.FaultIDs = slices.Delete(v.FaultIDs, k, k+1)
		v.Culprits = slices.Delete(v.Culprits, k, k+1)
		if len(v.FaultIDs) == 0 {
			v.Cause = "unknown"
		}
	}
}

// happens reports whether v happens in other too: violations of its
// request type there cover at least half of it, their bounds widened by a
// tick each way (two runs' timings drift apart a little once a fault acts).
func happens(v *dataset.Violation, other []dataset.Violation, tick int64) bool {
	return 2*covered(v, other, tick) >= span(v, tick)
}

// span is v's length for the coverage test: at least a tick, so that an
// interval opened at the run's last tick (closed at once) is tested too.
func span(v *dataset.Violation, tick int64) int64 { return max(v.EndNs-v.StartNs, tick) }

// covered is how much of v (ns, in steps of a tick, at least one) violations
// of v's request type in other cover, their bounds widened by slack.
func covered(v *dataset.Violation, other []dataset.Violation, slack int64) int64 {
	var n int64
	end := v.StartNs + span(v, slack)
	for t := v.StartNs; t < end; t += slack {
		for _, o := range other {
			if o.RequestType == v.RequestType && o.StartNs-slack <= t && t < o.EndNs+slack {
				n += min(slack, end-t)
				break
			}
		}
	}
	return n
}
