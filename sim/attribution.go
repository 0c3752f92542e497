package sim

import (
	"fmt"
	"slices"

	"github.com/seer-qos/seer/dataset"
)

// Attribution rules: how a violation is put down to the faults behind it.
const (
	// AttributionButFor (the default) keeps, of the faults the window rule
	// names, those without which the violation would not have happened: the
	// same run without the fault (same seed, hence the same arrivals) has no
	// violation of the request type over at least half of it. A mild fault
	// that happens to act while the load alone breaks the target is not its
	// culprit. It costs one more run per fault the window rule names.
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
	for i, f := range c.Faults {
		if !named[f.ID] {
			continue
		}
		cf := c
		cf.Faults = slices.Delete(slices.Clone(c.Faults), i, i+1)
		cf.Attribution = AttributionWindow
		cf.OnTick, cf.OnQoS, cf.Spans = nil, nil, nil
		without, err := Run(cf)
		if err != nil {
			return fmt.Errorf("run without fault %s: %w", f.ID, err)
		}
		dropIfNotNeeded(res.Violations, f.ID, without.Violations, int64(c.Tick))
	}
	return nil
}

// dropIfNotNeeded removes fault id from each violation of vs that the run
// without it (its violations: without) also had: violations of the same
// request type cover at least half of it, their bounds widened by a tick
// each way (the runs' timings drift apart a little once the fault acts).
func dropIfNotNeeded(vs []dataset.Violation, id string, without []dataset.Violation, tick int64) {
	for j := range vs {
		v := &vs[j]
		k := slices.Index(v.FaultIDs, id)
		if k < 0 || 2*covered(v, without, tick) < v.EndNs-v.StartNs {
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

// covered is how much of v (ns, in steps of a tick) violations of v's
// request type in other cover, their bounds widened by slack.
func covered(v *dataset.Violation, other []dataset.Violation, slack int64) int64 {
	var n int64
	for t := v.StartNs; t < v.EndNs; t += slack {
		for _, o := range other {
			if o.RequestType == v.RequestType && o.StartNs-slack <= t && t < o.EndNs+slack {
				n += min(slack, v.EndNs-t)
				break
			}
		}
	}
	return n
}
