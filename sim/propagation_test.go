package sim

import (
	"testing"
	"time"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/series"
)

// onset returns the first tick index at or after from whose 5-tick moving
// average of depth is at least twice the baseline (the mean over the ticks
// before from), or -1.
func onset(depth []float64, from int) int {
	base := 0.0
	for _, d := range depth[:from] {
		base += d
	}
	base /= float64(from)
	for i := from; i < len(depth); i++ {
		ma := 0.0
		for _, d := range depth[i-4 : i+1] {
			ma += d
		}
		if ma/5 >= 2*base && ma/5 >= base+0.5 {
			return i
		}
	}
	return -1
}

// TestCPUContentionPropagatesUpstream injects CPU contention on
// post-storage-service, in the middle of Social Network's graph: end-to-end
// violations follow, labelled with the fault, and queue depth rises first
// at the culprit, then at its callers (home-timeline), then at the front
// (nginx).
func TestCPUContentionPropagatesUpstream(t *testing.T) {
	const culprit = "post-storage-service"
	start := 20 * time.Second
	tick := 100 * time.Millisecond
	depth := map[string][]float64{}
	res, err := Run(Config{
		Topology: socialNetwork(t), Seed: 11, Duration: 60 * time.Second, Tick: tick, Load: Load{Rate: 2000},
		Faults: []dataset.Fault{{Kind: dataset.FaultCPU, Service: culprit, StartNs: int64(start), RampNs: int64(20 * time.Second), DurationNs: int64(10 * time.Second), Magnitude: 1.5}},
		OnTick: func(_ int64, ss []series.Sample) error {
			sum := map[string]float64{}
			for _, s := range ss {
				sum[s.Service] += s.MeanDepth
			}
			for _, svc := range []string{culprit, "home-timeline-service", "user-timeline-service", "nginx", "compose-post-service"} {
				depth[svc] = append(depth[svc], sum[svc])
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	from := int(start / tick)
	on := map[string]int{}
	for svc, d := range depth {
		on[svc] = onset(d, from)
		t.Logf("%-22s baseline-to-2x onset at %.1fs", svc, float64(on[svc])/10)
	}
	if on[culprit] < 0 || on["home-timeline-service"] < 0 || on["nginx"] < 0 {
		t.Fatalf("queue depth did not rise: onsets %v", on)
	}
	if !(on[culprit] < on["home-timeline-service"] && on["home-timeline-service"] <= on["nginx"]) {
		t.Errorf("onsets culprit %d, home-timeline %d, nginx %d: want culprit first, then upstream", on[culprit], on["home-timeline-service"], on["nginx"])
	}
	if on["user-timeline-service"] <= on[culprit] {
		t.Errorf("user-timeline (a caller) rose at %d, before the culprit at %d", on["user-timeline-service"], on[culprit])
	}
	var caused int
	for _, v := range res.Violations {
		if v.Cause == "fault" && len(v.Culprits) == 1 && v.Culprits[0].Service == culprit {
			caused++
			if v.StartNs < res.StartNs+int64(start) {
				t.Errorf("violation at %d before the fault started", v.StartNs)
			}
		}
	}
	if caused == 0 {
		t.Fatalf("no violation labelled with the fault: %+v", res.Violations)
	}
}
