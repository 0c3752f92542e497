package seerpredictorextension

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/seer-qos/seer/internal/series"
)

// TestPredictionsFileErrorsCounted: a tick the file cannot take is counted,
// and still served from memory.
func TestPredictionsFileErrorsCounted(t *testing.T) {
	o := newPredictionsOut(4)
	if err := o.openFile(filepath.Join(t.TempDir(), "p.jsonl")); err != nil {
		t.Fatal(err)
	}
	o.add(Prediction{StartNs: 1}, zap.NewNop())
	if n := o.fileErrors(); n != 0 {
		t.Fatalf("%d write errors on a good file", n)
	}
	_ = o.f.Close() // the disk goes away under the writer
	o.add(Prediction{StartNs: 2}, zap.NewNop())
	if n := o.fileErrors(); n != 1 {
		t.Errorf("write errors = %d, want 1", n)
	}
	recent := o.snapshot()
	last, ok := o.latest()
	if len(recent) != 2 || !ok || last.StartNs != 2 {
		t.Errorf("served %d predictions, last %+v; want 2, the second", len(recent), last)
	}
}

// TestPredictionsRing: the ring serves the newest predictions, oldest
// first, and the latest one, across wrap-around.
func TestPredictionsRing(t *testing.T) {
	o := newPredictionsOut(4)
	if _, ok := o.latest(); ok || len(o.snapshot()) != 0 {
		t.Fatal("an empty ring serves predictions")
	}
	for i := range 6 {
		o.add(Prediction{StartNs: int64(i + 1)}, zap.NewNop())
		last, ok := o.latest()
		if !ok || last.StartNs != int64(i+1) {
			t.Fatalf("after %d: latest %+v", i+1, last)
		}
	}
	var got []int64
	for _, p := range o.snapshot() {
		got = append(got, p.StartNs)
	}
	if want := []int64{3, 4, 5, 6}; !slices.Equal(got, want) {
		t.Errorf("snapshot %v, want %v", got, want)
	}
}

// TestShutdownServesBufferedTicks: ticks still in the subscription's buffer
// when the extension stops are served, not lost.
func TestShutdownServesBufferedTicks(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Retraining.Enabled = false
	cfg.PredictionsFile = filepath.Join(t.TempDir(), "predictions.jsonl")
	p := startPipeline(t, "drain", cfg)
	const n = 50
	start := time.Unix(1_700_000_000, 0)
	for i := range n {
		s := start.Add(time.Duration(i) * 100 * time.Millisecond)
		b := series.Batch{Start: s, End: s.Add(100 * time.Millisecond), Origin: series.OriginSpans,
			Samples: []series.Sample{{Key: series.Key{Service: "a", Instance: "a-0"}, MeanDepth: 1, Depth: 1, Arrivals: 3}}}
		if delivered, _ := p.hub.Publish(b); delivered != 1 {
			t.Fatalf("tick %d: delivered to %d subscribers, want 1", i, delivered)
		}
	}
	if err := p.proc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.ext.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(readPredictions(t, cfg.PredictionsFile)); got != n {
		t.Errorf("%d predictions written, want %d (one per tick published)", got, n)
	}
}
