package predictor

import (
	"os"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/graph"
)

// TestXLATrainStepProbe times the loss graph and one training step on XLA
// and simplego (default shape, batch 32, 23 services). A probe, not a check: run with
// SEER_XLA_PROBE=1 go test -run XLATrainStepProbe -v ./predictor
func TestXLATrainStepProbe(t *testing.T) {
	if os.Getenv("SEER_XLA_PROBE") != "1" {
		t.Skip("set SEER_XLA_PROBE=1")
	}
	requireXLA(t)
	cfg := DefaultTrainConfig()
	s := Shape{Services: 23, Features: len(cfg.Features), Window: cfg.Window, Kernel: 3, Channels: cfg.Channels, Hidden: cfg.Hidden}
	p, err := NewParams(s, 1)
	if err != nil {
		t.Fatal(err)
	}
	const batch = 32
	x := (*CallGraph)(nil).widen(nil, randomInput(s, batch, 1), s, batch)
	y := make([]float32, batch*s.Outputs())
	wt := make([]float32, batch*s.Outputs())
	for i := range wt {
		wt[i] = 1
	}
	for _, name := range []string{BackendXLA, BackendSimpleGo} {
		probeBackend(t, name, s, p, x, y, wt)
	}
}

func probeBackend(t *testing.T, name string, s Shape, p *Params, x, y, wt []float32) {
	const batch = 32
	b, _, _ := OpenBackend(name)
	le, err := graph.NewExec(b, evalLossGraph(s))
	if err != nil {
		t.Fatal(err)
	}
	te, err := graph.NewExec(b, trainGraph(s))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		start := time.Now()
		if _, err := meanLossRaw(le, batch, x, y, wt, p); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s loss graph run %d: %v", name, i, time.Since(start))
	}
	for i := range 4 {
		start := time.Now()
		if _, _, err := runStep(te, s, batch, x, y, wt, p); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s train step %d: %v", name, i, time.Since(start))
	}
}
