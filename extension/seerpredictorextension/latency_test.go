package seerpredictorextension

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/predictor"
	"github.com/seer-qos/seer/sim"
	"github.com/seer-qos/seer/sim/topology"
)

// BenchmarkInferenceWhileTraining measures the serving model's inference
// p99 while a retraining job runs in its training process against its p99
// when idle (the issue asks for within 20%). Rounds of paced inferences
// alternate idle and training: a job is started, one round runs while the
// training process starts (process start, plugin load, compilation), then
// two while it trains, and the job is cancelled. Serving paces and
// pre-empts as the extension does (preempter), with ticks every 20 ms
// instead of 100 ms to keep it short. It reports the medians of the
// rounds' p99s: idle, training (steady), and starting. A benchmark, not a
// test: on a shared 2-CPU machine the figures swing from run to run.
//
//	go test -run '^$' -bench InferenceWhileTraining -benchtime 1x ./extension/seerpredictorextension
func BenchmarkInferenceWhileTraining(b *testing.B) {
	for range b.N {
		idle, busy, starting := measureTrainingSlowdown(b)
		med := func(d []time.Duration) time.Duration {
			d = slices.Clone(d)
			slices.Sort(d)
			return d[len(d)/2]
		}
		b.Logf("inference p99 per round: idle %v, training %v, starting %v", idle, busy, starting)
		mi, mb, ms := med(idle), med(busy), med(starting)
		b.ReportMetric(float64(mi.Microseconds())/1000, "idle-p99-ms")
		b.ReportMetric(float64(mb.Microseconds())/1000, "training-p99-ms")
		b.ReportMetric(float64(ms.Microseconds())/1000, "starting-p99-ms")
		b.ReportMetric(float64(mb)/float64(mi), "ratio")
	}
}

func measureTrainingSlowdown(t testing.TB) (idle, busy, starting []time.Duration) {
	topo, _, err := topology.Load("social-network")
	if err != nil {
		t.Fatal(err)
	}
	var ticks []predictor.RawTick
	tick := 100 * time.Millisecond
	if _, err := sim.Run(sim.Config{Topology: topo, Seed: 9, Duration: 90 * time.Second, Load: sim.Load{Rate: 300},
		OnTick: func(start int64, samples []series.Sample) error {
			ticks = append(ticks, predictor.NewRawTick(series.Batch{Start: time.Unix(0, start),
				End: time.Unix(0, start).Add(tick), Samples: samples}))
			return nil
		}}); err != nil {
		t.Fatal(err)
	}
	qos := QoSConfig{Service: topo.Requests[0].Service, Latency: 20 * time.Millisecond}
	services := liveServices(ticks)
	trs, err := predictor.LiveTraces(ticks, services, nil, predictor.QoSTarget{Service: qos.Service, Latency: qos.Latency}, 1, createDefaultConfig().(*Config).Retraining.Window)
	if err != nil {
		t.Fatal(err)
	}
	m := randomModel(t, trs[0], 16, 0)
	// Serve as the extension does: the configured default backend.
	b, _, err := predictor.OpenBackend(createDefaultConfig().(*Config).Backend)
	if err != nil {
		t.Fatal(err)
	}
	r, err := predictor.NewRunner(b, m.Params)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := m.Card.Shape
	x := make([]float32, s.Steps()*s.Services*s.Kernel*s.Features)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	// Serving paces inferences at one per tick, pauses training ahead of
	// each and through it, and warms up, as the extension's serving
	// goroutine does.
	var g gate
	const period = 20 * time.Millisecond
	pre := newPreempter(&g, func() {
		if _, err := r.Predict(x, 1); err != nil {
			t.Error(err)
		}
	})
	defer pre.stop()
	round := func() time.Duration {
		lat := make([]time.Duration, 150)
		tk := time.NewTicker(period)
		defer tk.Stop()
		for i := 0; i < len(lat); {
			select {
			case <-pre.C():
				pre.fire()
			case arrived := <-tk.C:
				start := time.Now()
				pre.begin()
				_, err := r.Predict(x, 1)
				lat[i] = time.Since(start)
				pre.end(arrived, period, lat[i])
				if err != nil {
					t.Fatal(err)
				}
				i++
			}
		}
		slices.Sort(lat)
		return lat[len(lat)*99/100]
	}
	round() // compile and warm up

	jobs, results := make(chan job), make(chan result, 1)
	go trainLoop(jobs, results)
	defer close(jobs)
	cfg := createDefaultConfig().(*Config).Retraining
	cfg.QoS, cfg.Features, cfg.Window, cfg.Channels, cfg.Hidden = qos, m.Card.Features.Features, s.Window, s.Channels, s.Hidden
	cfg.Epochs, cfg.Chunks = 1000, 4 // cancelled once measured
	for range 5 {
		idle = append(idle, round())
		ctx, cancel := context.WithCancel(context.Background())
		// The send returns once the training thread has taken the job.
		jobs <- job{ctx: ctx, kind: kindIncremental, base: &slot{model: m}, ticks: ticks, services: services, cfg: cfg,
			newSlot: func(*predictor.Model, string) (*slot, error) { return nil, errors.New("not in this test") },
			swap:    func(_, _ *slot) bool { return false }, gate: &g}
		starting = append(starting, round())
		busy = append(busy, round(), round())
		select {
		case res := <-results:
			t.Fatalf("training ended during the measurement (%s, %v): the round did not run while it trained", res.outcome, res.err)
		default:
		}
		cancel()
		if res := <-results; res.outcome != outcomeStale {
			t.Fatalf("cancelled job: outcome %s (%v), want %s", res.outcome, res.err, outcomeStale)
		}
	}
	return idle, busy, starting
}
