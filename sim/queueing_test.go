package sim

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/sim/topology"
)

// erlangC returns the analytic mean number in system L and mean response
// time W (seconds) of an M/M/c queue.
func erlangC(lambda, mu float64, c int) (L, W float64) {
	a := lambda / mu
	rho := a / float64(c)
	sum, term := 0.0, 1.0
	for k := 0; k < c; k++ {
		if k > 0 {
			term *= a / float64(k)
		}
		sum += term
	}
	last := term * a / float64(c) / (1 - rho) // a^c/c! / (1-rho)
	pw := last / (sum + last)
	lq := pw * rho / (1 - rho)
	W = lq/lambda + 1/mu
	return lambda * W, W
}

func singleService(workers, cores int, mean time.Duration) *topology.Topology {
	doc := fmt.Sprintf(`
name: mmc
network: {latency: 0s}
services:
  - name: s
    workers: %d
    cores: %d
    operations: [{name: op, service_time: {dist: exp, mean: %s}}]
requests: [{name: r, weight: 1, service: s, op: op}]
`, workers, cores, mean)
	t, err := topology.Parse([]byte(doc))
	if err != nil {
		panic(err)
	}
	return t
}

// measure runs a topology and returns, from the dataset, the time-average
// number in system and the mean latency (s) of service s.
func measure(t *testing.T, topo *topology.Topology, rate float64, d time.Duration, seed uint64) (L, W float64) {
	t.Helper()
	dir := t.TempDir()
	_, err := RunToDataset(Config{Topology: topo, Seed: seed, Duration: d, Load: Load{Rate: rate}}, DatasetOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ds.ReadAllSeries()
	if err != nil {
		t.Fatal(err)
	}
	var area, n, latSum, latN float64
	for _, r := range recs {
		area += r.Sample.MeanDepth
		n++
		latSum += float64(r.Sample.Latency.Sum)
		latN += r.Sample.Latency.Count
	}
	return area / n, latSum / latN / 1e9
}

var seedForTest uint64 = 1

func TestQueueingMatchesAnalytic(t *testing.T) {
	mean := time.Millisecond
	tests := []struct {
		name          string
		workers, core int
		rho           float64
	}{
		{"M/M/1 rho=0.5", 1, 1, 0.5},
		{"M/M/1 rho=0.8", 1, 1, 0.8},
		{"M/M/2 rho=0.7", 2, 2, 0.7},
		{"M/M/4 rho=0.8", 4, 4, 0.8},
		{"M/M/8 rho=0.85", 8, 8, 0.85},
		// a large thread pool on 4 cores queues for the cores: M/M/4 too
		{"M/M/4 on cores", 64, 4, 0.8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu := 1 / mean.Seconds()
			lambda := tt.rho * mu * float64(tt.core)
			// about 1.5M requests: standard error well under 1% at rho 0.8
			d := time.Duration(1.5e6/lambda) * time.Second
			wantL, wantW := erlangC(lambda, mu, tt.core)
			gotL, gotW := measure(t, singleService(tt.workers, tt.core, mean), lambda, d, seedForTest)
			errL, errW := gotL/wantL-1, gotW/wantW-1
			t.Logf("L %.4f (analytic %.4f, %+.2f%%)  W %.4fms (analytic %.4fms, %+.2f%%)", gotL, wantL, 100*errL, gotW*1e3, wantW*1e3, 100*errW)
			if math.Abs(errL) > 0.05 || math.Abs(errW) > 0.05 {
				t.Errorf("more than 5%% off the analytic values")
			}
		})
	}
}
