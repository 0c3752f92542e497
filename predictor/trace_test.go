package predictor

import (
	"testing"
	"time"

	"github.com/seer-qos/seer/internal/series"
)

// TestRawAccumAggregatesInstances: a service's raw quantities from its
// instances' samples, as training (LoadTrace) and serving (NewRawTick) both
// compute them.
func TestRawAccumAggregatesInstances(t *testing.T) {
	samples := []series.Sample{
		{Depth: 2, Arrivals: 10, Completions: 9, MeanDepth: 2,
			Latency: series.Latency{Count: 9, Sum: 9 * 3 * time.Millisecond, Min: time.Millisecond, Max: 7 * time.Millisecond},
			Network: series.Latency{Count: 3, Sum: 3 * 2 * time.Millisecond}, Failed: 1.5},
		{Depth: 4, Arrivals: 20, Completions: 21, MeanDepth: 4,
			Latency: series.Latency{Count: 21, Sum: 21 * 5 * time.Millisecond, Min: time.Millisecond, Max: 12 * time.Millisecond},
			Network: series.Latency{Count: 1, Sum: 6 * time.Millisecond}, Failed: 1.5},
		{Depth: 1, Arrivals: 1}, // no completions: counts for depth and arrivals only
	}
	var a rawAccum
	for i := range samples {
		a.add(&samples[i], 8)
	}
	got := make([]float32, numRaw)
	a.put(got)
	want := map[int]float32{
		rawDepth: 7, rawArrivals: 31, rawCompletions: 30,
		rawLatency:     (9*3 + 21*5) / 30.0, // completion-weighted mean, ms
		rawLatencyMax:  12,                  // the largest of any instance, ms
		rawNetwork:     (3*2 + 6) / 4.0,     // call-weighted mean, ms
		rawFailed:      3,                   // summed over instances
		rawUtilization: 6.0 / 24,            // busy (mean depth, at most the 8 workers) over workers
	}
	for q, w := range want {
		if d := got[q] - w; d > 1e-5 || d < -1e-5 {
			t.Errorf("raw %s: got %v, want %v", rawName(q), got[q], w)
		}
	}

	var none rawAccum
	none.add(&series.Sample{Depth: 1}, 0)
	none.put(got)
	if got[rawLatency] != 0 || got[rawLatencyMax] != 0 || got[rawNetwork] != 0 {
		t.Errorf("no completions or calls: latency %v, latency_max %v, network %v; want 0, 0, 0", got[rawLatency], got[rawLatencyMax], got[rawNetwork])
	}
}

func rawName(q int) string {
	if q < len(FeatureNames) {
		return FeatureNames[q]
	}
	return "utilization"
}
