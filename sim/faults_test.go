package sim

import (
	"testing"
	"time"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/series"
)

// window sums the samples of one service over [from, to) offsets.
type window struct {
	arrivals, latSum, latN float64
}

func (w window) meanLatency() float64 { return w.latSum / w.latN }

// runWindows runs Social Network for 10s with faults and returns, per
// service, the sums over [3s, 8s).
func runWindows(t *testing.T, faults []dataset.Fault) (map[string]window, *Result) {
	t.Helper()
	out := map[string]window{}
	res, err := Run(Config{Topology: socialNetwork(t), Seed: 21, Duration: 10 * time.Second, Load: Load{Rate: 2000}, Faults: faults,
		OnTick: func(start int64, ss []series.Sample) error {
			off := time.Duration(start - DefaultStart)
			if off < 3*time.Second || off >= 8*time.Second {
				return nil
			}
			for _, s := range ss {
				w := out[s.Service]
				w.arrivals += s.Arrivals
				w.latSum += float64(s.Latency.Sum)
				w.latN += s.Latency.Count
				out[s.Service] = w
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return out, res
}

func TestFaultKindsHaveTheirEffect(t *testing.T) {
	base, _ := runWindows(t, nil)
	lat := func(svc string) func(map[string]window, *Result) float64 {
		return func(w map[string]window, _ *Result) float64 { return w[svc].meanLatency() / base[svc].meanLatency() }
	}
	arr := func(svc string) func(map[string]window, *Result) float64 {
		return func(w map[string]window, _ *Result) float64 { return w[svc].arrivals / base[svc].arrivals }
	}
	tests := []struct {
		kind, service string
		magnitude     float64
		measure       func(map[string]window, *Result) float64
		atLeast       float64
	}{
		{dataset.FaultCPU, "text-service", 9, lat("text-service"), 2},
		{dataset.FaultMemory, "post-storage-memcached", 4, lat("post-storage-memcached"), 1.5},
		{dataset.FaultDisk, "post-storage-mongodb", 4, lat("post-storage-mongodb"), 1.5},
		{dataset.FaultNetworkDelay, "home-timeline-redis", float64(2 * time.Millisecond), lat("home-timeline-service"), 1.5},
		{dataset.FaultNetworkLoss, "home-timeline-redis", 0.05, lat("home-timeline-service"), 3},
		{dataset.FaultBlocking, "home-timeline-service", 0.995, lat("home-timeline-service"), 2},
		{dataset.FaultCacheFailure, "post-storage-memcached", 1, arr("post-storage-mongodb"), 3},
		{dataset.FaultLoadSurge, "", 0.5, arr("nginx"), 1.4},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			w, res := runWindows(t, []dataset.Fault{{Kind: tt.kind, Service: tt.service, StartNs: int64(2 * time.Second), DurationNs: int64(6 * time.Second), Magnitude: tt.magnitude}})
			got := tt.measure(w, res)
			t.Logf("%s on %s: %.2fx the baseline", tt.kind, tt.service, got)
			if got < tt.atLeast {
				t.Errorf("effect %.2fx, want at least %.1fx", got, tt.atLeast)
			}
			if tt.kind == dataset.FaultNetworkLoss && res.Stats.Lost == 0 {
				t.Error("no request lost")
			}
		})
	}
}

func TestFaultRampsLinearly(t *testing.T) {
	fs := &faultState{f: dataset.Fault{StartNs: 100, RampNs: 100, DurationNs: 50, Magnitude: 2}}
	for _, c := range []struct {
		at   int64
		want float64
	}{{99, 0}, {100, 0}, {150, 1}, {200, 2}, {249, 2}, {250, 0}} {
		if got := fs.level(c.at); got != c.want {
			t.Errorf("level(%d) = %v, want %v", c.at, got, c.want)
		}
	}
	fs.f.EndedNs = 160
	if got := fs.level(170); got != 0 {
		t.Errorf("level after removal = %v", got)
	}
}
