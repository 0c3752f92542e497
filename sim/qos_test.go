package sim

import (
	"testing"
	"time"

	"github.com/seer-qos/seer/dataset"
)

func TestFinishViolationsAttribution(t *testing.T) {
	const s = int64(time.Second)
	faults := []dataset.Fault{
		{ID: "before", Service: "a", StartNs: 10 * s, RampNs: s, DurationNs: 5 * s},    // acts 10-16 s
		{ID: "after", Service: "b", StartNs: 40*s + s/2, RampNs: s, DurationNs: 5 * s}, // starts inside the violation at 40 s
		{ID: "drained", Service: "c", StartNs: 50 * s, DurationNs: s},                  // ends at 51 s
	}
	sim := &Sim{cfg: Config{QoSWindow: time.Second}, viol: []dataset.Violation{
		{StartNs: 12 * s, EndNs: 13 * s}, // during "before"
		{StartNs: 40 * s, EndNs: 42 * s}, // "after" starts half a second in
		{StartNs: 56 * s, EndNs: 57 * s}, // 5 s after "drained" ended: window 1 s + drain 5 s
		{StartNs: 58 * s, EndNs: 59 * s}, // past the drain
	}}
	got := sim.finishViolations(faults)
	want := [][]string{{"before"}, {}, {"drained"}, {}}
	for i, v := range got {
		if len(v.FaultIDs) != len(want[i]) || (len(want[i]) > 0 && v.FaultIDs[0] != want[i][0]) {
			t.Errorf("violation %d at %d s: faults %v, want %v", i, v.StartNs/s, v.FaultIDs, want[i])
		}
		wantCause := "unknown"
		if len(want[i]) > 0 {
			wantCause = "fault"
		}
		if v.Cause != wantCause {
			t.Errorf("violation %d: cause %q, want %q", i, v.Cause, wantCause)
		}
	}
}
