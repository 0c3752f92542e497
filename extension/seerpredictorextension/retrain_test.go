package seerpredictorextension

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seer-qos/seer/predictor"
	"github.com/seer-qos/seer/sim"
	"github.com/seer-qos/seer/sim/topology"
)

// TestGraphChangeRetrains: a service the model does not know appears in
// the spans; the graph event switches to the heuristic (state retraining),
// a model for the new graph trains in the background and takes over.
func TestGraphChangeRetrains(t *testing.T) {
	topo, _, err := topology.Load("social-network")
	if err != nil {
		t.Fatal(err)
	}
	renamed, newName := "post-storage-service", "post-storage-v2"
	changeAt := sim.DefaultStart + int64(20*time.Second)
	var spans []sim.Span
	collect := sim.SpanFunc(func(s *sim.Span) error {
		sp := *s
		if sp.Service == renamed && sp.Start >= changeAt {
			sp.Service = newName
		}
		spans = append(spans, sp)
		return nil
	})
	dir := filepath.Join(t.TempDir(), "ds")
	if _, err := sim.RunToDataset(sim.Config{Topology: topo, Seed: 4, Duration: 20 * time.Second, Load: sim.Load{Rate: 200}},
		sim.DatasetOptions{Dir: dir, Generator: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Run(sim.Config{Topology: topo, Seed: 5, Duration: 60 * time.Second, Load: sim.Load{Rate: 200}, Spans: collect}); err != nil {
		t.Fatal(err)
	}
	tr, err := predictor.LoadTrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := randomModel(t, tr, 8, 0)
	modelPath := filepath.Join(t.TempDir(), "model")
	if err := m.Save(modelPath); err != nil {
		t.Fatal(err)
	}
	cfg := createDefaultConfig().(*Config)
	cfg.Model = modelPath
	cfg.Backend = predictor.BackendSimpleGo
	cfg.Buffer = 1 << 16
	cfg.PredictionsFile = filepath.Join(t.TempDir(), "predictions.jsonl")
	cfg.Retraining = RetrainingConfig{Enabled: true, QoS: QoSConfig{Service: topo.Requests[0].Service, Latency: 20 * time.Millisecond},
		Interval: time.Hour, History: 2 * time.Minute, MinHistory: 15 * time.Second, Features: []string{"depth", "latency"},
		Window: 8, Channels: 4, Hidden: 8, Horizon: time.Second, Epochs: 2, Batch: 16, Chunks: 4, Seed: 1}
	p := startPipeline(t, "retrain", cfg)
	p.sendSpans(t, spans)
	p.waitCaughtUp(t, 30*time.Second)
	deadline := time.Now().Add(60 * time.Second)
	for {
		sl := p.ext.slot.Load()
		if sl.model != nil && strings.HasPrefix(sl.version, "retrained") {
			if !slices.Contains(sl.model.Card.Features.Services, newName) {
				t.Fatalf("the new model does not know %s: %v", newName, sl.model.Card.Features.Services)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no retrained model: state %s (%s) version %s", sl.state, sl.reason, sl.version)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
	if err := p.proc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.ext.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, pr := range readPredictions(t, cfg.PredictionsFile) {
		states[pr.State+"/"+pr.Version[:min(len(pr.Version), 9)]]++
	}
	t.Logf("ticks by state/version: %v", states)
	if states[StateRetraining+"/heuristic"] == 0 {
		t.Errorf("the heuristic never served in state retraining: %v", states)
	}
}
