package sim

import (
	"testing"
	"time"

	"github.com/seer-qos/seer/sim/topology"
)

// BenchmarkSocialNetwork simulates 10 s of Social Network at 2,000
// requests/s per iteration and reports spans (SERVER + CLIENT) per wall
// second. Run with GOMAXPROCS=1 for the one-core figure.
func BenchmarkSocialNetwork(b *testing.B) {
	benchTopology(b, socialNetwork(b), 2000)
}

// BenchmarkRandom1000 does the same on a generated 1000-service graph.
func BenchmarkRandom1000(b *testing.B) {
	topo, err := topology.Random(topology.RandomOptions{Services: 1000, Seed: 1, Rate: 2000})
	if err != nil {
		b.Fatal(err)
	}
	benchTopology(b, topo, 2000)
}

func benchTopology(b *testing.B, topo *topology.Topology, rate float64) {
	var spans int64
	var simulated time.Duration
	b.ReportAllocs()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		res, err := Run(Config{Topology: topo, Seed: uint64(i + 1), Duration: 10 * time.Second, Load: Load{Rate: rate}})
		if err != nil {
			b.Fatal(err)
		}
		spans += res.Stats.Visits + res.Stats.Calls
		simulated += 10 * time.Second
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(float64(spans)/wall, "spans/s")
	b.ReportMetric(simulated.Seconds()/wall, "x-realtime")
}
