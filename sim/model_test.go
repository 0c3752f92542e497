package sim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/sim/topology"
)

func parse(t *testing.T, doc string) *topology.Topology {
	t.Helper()
	topo, err := topology.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func TestBoundedQueueRejects(t *testing.T) {
	topo := parse(t, `
name: q
network: {latency: 0s}
services:
  - {name: s, workers: 2, queue: 3, operations: [{name: op, service_time: {dist: const, mean: 10ms}}]}
requests: [{name: r, weight: 1, service: s, op: op}]
`)
	maxDepth := 0.0
	res, err := Run(Config{Topology: topo, Seed: 1, Duration: 5 * time.Second, Load: Load{Rate: 400},
		OnTick: func(_ int64, ss []series.Sample) error {
			maxDepth = max(maxDepth, ss[0].InstantDepth)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Rejected == 0 || maxDepth > 5 {
		t.Fatalf("rejected %d, max depth %v (want rejections and at most workers+queue = 5)", res.Stats.Rejected, maxDepth)
	}
}

// A worker held during downstream calls limits throughput to
// workers/latency; a non-blocking service is limited by its compute only.
func TestBlockingWorkersLimitThroughput(t *testing.T) {
	doc := `
name: b
network: {latency: 0s}
services:
  - name: front
    workers: 2
    blocking: BLOCKING
    operations: [{name: op, service_time: {dist: const, mean: 100us}, calls: [{call: {service: slow, op: op}}]}]
  - {name: slow, workers: 1000, operations: [{name: op, service_time: {dist: const, mean: 10ms}}]}
requests: [{name: r, weight: 1, service: front, op: op}]
`
	run := func(blocking string) float64 {
		var done float64
		_, err := Run(Config{Topology: parse(t, strings.Replace(doc, "BLOCKING", blocking, 1)), Seed: 1, Duration: 5 * time.Second, Load: Load{Rate: 1000},
			OnTick: func(_ int64, ss []series.Sample) error {
				done += ss[0].Completions
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		return done / 5
	}
	blocked, async := run("true"), run("false")
	t.Logf("completions/s: blocking %.0f, non-blocking %.0f", blocked, async)
	// blocking: 2 workers / 10.1ms = 198/s; non-blocking: the offered 1000/s
	if blocked > 210 || async < 900 {
		t.Fatalf("blocking %.0f/s (want <= 198), non-blocking %.0f/s (want about 1000)", blocked, async)
	}
}

func TestTimeoutsRetryThenFail(t *testing.T) {
	topo := parse(t, `
name: t
network: {latency: 0s}
services:
  - name: front
    workers: 1000
    operations: [{name: op, service_time: {dist: const, mean: 0s}, calls: [{call: {service: slow, op: op, timeout: 5ms, retries: 2}}]}]
  - {name: slow, workers: 1000, operations: [{name: op, service_time: {dist: const, mean: 20ms}}]}
requests: [{name: r, weight: 1, service: front, op: op, qos_p99: 1s}]
`)
	res, err := Run(Config{Topology: topo, Seed: 1, Duration: 2 * time.Second, Load: Load{Rate: 100}})
	if err != nil {
		t.Fatal(err)
	}
	st := res.Stats
	// every call times out three times (first try and two retries), then the request fails
	if st.Completed == 0 || st.Failed != st.Completed || st.Calls < 3*st.Completed || st.Calls > 3*st.Requests || st.Timeouts < 3*st.Completed {
		t.Fatalf("stats %+v", st)
	}
}

func TestContextStopsTheRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ticks := 0
	_, err := Run(Config{Context: ctx, Topology: socialNetwork(t), Seed: 1, Duration: time.Hour, Load: Load{Rate: 100},
		OnTick: func(int64, []series.Sample) error {
			if ticks++; ticks == 5 {
				cancel()
			}
			return nil
		}})
	if !errors.Is(err, context.Canceled) || ticks != 5 {
		t.Fatalf("error %v after %d ticks, want context.Canceled after 5", err, ticks)
	}
}
