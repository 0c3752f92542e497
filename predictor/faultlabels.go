package predictor

import (
	"cmp"
	"slices"

	"github.com/seer-qos/seer/dataset"
)

// LabelFaults makes each trace's faults its violation labels, for training
// on data without QoS targets (replays): every fault whose kind is in
// kinds (all kinds when kinds is empty) becomes one violation over its
// active interval [start, end), caused by that fault, with the fault's
// service as culprit. Train then labels a tick positive when such a fault
// is active within the horizon, with the fault's service as culprit. The
// traces' own violations are replaced; it returns the number of labels
// made. Use it only on training traces: on evaluated ones it would hand
// the ground truth to the labels.
func LabelFaults(traces []*Trace, kinds []string) int {
	n := 0
	for _, tr := range traces {
		tr.Violations = tr.Violations[:0]
		for _, f := range tr.Faults {
			if len(kinds) > 0 && !slices.Contains(kinds, f.Kind) {
				continue
			}
			tr.Violations = append(tr.Violations, dataset.Violation{
				RequestType: "fault:" + f.Kind, StartNs: f.StartNs, EndNs: f.EndNs(),
				FaultIDs: []string{f.ID}, Culprits: []dataset.SeriesKey{{Service: f.Service, Instance: f.Instance}},
				Cause: "fault"})
			n++
		}
		// Episodes and Labels expect start order.
		slices.SortStableFunc(tr.Violations, func(a, b dataset.Violation) int {
			return cmp.Compare(a.StartNs, b.StartNs)
		})
	}
	return n
}
