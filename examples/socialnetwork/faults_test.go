package socialnetwork

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFaultRaisesCulpritLatencyAndQueue injects each fault kind into
// post-storage-service under the same open-loop load and compares the
// culprit's SERVER spans with and without it: the median time from arrival
// to the end of processing, and the mean number of requests outstanding at
// arrival (the queue depth Seer reads from the spans; trimmed of its
// highest tenth, see spanStats).
func TestFaultRaisesCulpritLatencyAndQueue(t *testing.T) {
	const (
		culprit = PostStorage
		rate    = 100 // low enough for a machine shared with other work
		n       = 100
	)
	tests := []struct {
		kind      string
		magnitude float64
	}{
		{FaultCPUHog, 6},         // six hogs on four workers
		{FaultDelay, 5},          // 5ms
		{FaultLockContention, 0}, // default: held 80% of the time
	}
	app, rec := startTestApp(t, AppConfig{})
	in := NewInjector(app, nil, nil)
	t.Cleanup(in.Close)
	load(t, app, rate, n/2, nil) // warm the caches and connections
	rec.take(culprit)
	// The machine may be busy with other work, which slows both phases at
	// random: a kind passes if one of three baseline/fault pairs shows the
	// rise. A fault without effect fails all three.
	const attempts = 3
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			var failures []string
			for attempt := 1; attempt <= attempts; attempt++ {
				load(t, app, rate, n, nil)
				baseLat, baseOut := spanStats(rec.take(culprit))

				f, err := in.Inject(FaultSpec{Kind: tt.kind, Service: culprit, Duration: Duration(time.Minute), Magnitude: tt.magnitude}, "test")
				if err != nil {
					t.Fatal(err)
				}
				load(t, app, rate, n, nil)
				if _, err := in.Remove(f.ID); err != nil {
					t.Fatal(err)
				}
				faultLat, faultOut := spanStats(rec.take(culprit))
				t.Logf("%s on %s: median latency %v -> %v, trimmed mean outstanding %.2f -> %.2f",
					tt.kind, culprit, baseLat, faultLat, baseOut, faultOut)
				var fail []string
				if faultLat < 2*baseLat {
					fail = append(fail, fmt.Sprintf("median latency %v with the fault, %v without: want at least twice", faultLat, baseLat))
				}
				if faultOut < 1.5*baseOut || faultOut < baseOut+0.15 {
					fail = append(fail, fmt.Sprintf("mean outstanding %.2f with the fault, %.2f without: want half as many again and 0.15 more", faultOut, baseOut))
				}
				if len(fail) == 0 {
					return
				}
				failures = append(failures, strings.Join(fail, "; "))
			}
			t.Errorf("no rise in %d attempts:\n%s", attempts, strings.Join(failures, "\n"))
		})
	}
}
