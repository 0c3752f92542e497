package seerpredictorextension

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/predictor"
	"github.com/seer-qos/seer/sim"
	"github.com/seer-qos/seer/sim/topology"
)

// TestOnlineAgreesWithOffline: a simulated Social Network run, written as a
// dataset and sent as spans through the queuedepth processor to the
// extension, gives tick by tick the probabilities that PredictTrace (what
// `seer eval` runs) computes on the dataset.
func TestOnlineAgreesWithOffline(t *testing.T) {
	topo, _, err := topology.Load("social-network")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ds")
	// Spans are kept and sent after the run: the model needs the dataset's norms first.
	var spans []sim.Span
	collect := sim.SpanFunc(func(s *sim.Span) error { spans = append(spans, *s); return nil })
	// A network loss: failed calls, counted from the callers' CLIENT spans.
	loss := dataset.Fault{Kind: dataset.FaultNetworkLoss, Service: "post-storage-memcached", StartNs: 2e9, DurationNs: 6e9, Magnitude: 0.2}
	scfg := sim.Config{Topology: topo, Seed: 3, Duration: 12 * time.Second, Load: sim.Load{Rate: 300}, Spans: collect,
		Faults: []dataset.Fault{loss}}
	res, err := sim.RunToDataset(scfg, sim.DatasetOptions{Dir: dir, Generator: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// Each timed-out call counts in the series' Failed of its callee.
	if n := res.Stats.Timeouts; n < 10 {
		t.Fatalf("only %d calls timed out: the agreement would not cover failed calls", n)
	}
	tr, err := predictor.LoadTrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	// One network, an ensemble of two (seer combine), and one of two
	// members with their own feature scaling (members of different splits,
	// seer combine --calibration): one graph each time.
	for _, tc := range []struct {
		members    int
		ownScaling bool
	}{{0, false}, {2, false}, {2, true}} {
		t.Run(fmt.Sprintf("members=%d,own_scaling=%v", tc.members, tc.ownScaling), func(t *testing.T) {
			m := randomModel(t, tr, 8, tc.members)
			if tc.ownScaling {
				// Member 2 as if fitted on other data: other means and stds.
				other := make([][]predictor.Norm, len(m.Card.Features.Norms))
				for s, ns := range m.Card.Features.Norms {
					for f, n := range ns {
						other[s] = append(other[s], predictor.Norm{Mean: n.Mean + 0.3*float64(f%3) - 0.2, Std: n.Std * (1 + 0.1*float64(s%4))})
					}
				}
				m.Card.MemberNorms = [][][]predictor.Norm{m.Card.Features.Norms, other}
			}
			modelPath := filepath.Join(t.TempDir(), "model")
			if err := m.Save(modelPath); err != nil {
				t.Fatal(err)
			}

			cfg := createDefaultConfig().(*Config)
			cfg.Model = modelPath
			cfg.Buffer = 1 << 16
			cfg.PredictionsFile = filepath.Join(t.TempDir(), "predictions.jsonl")
			p := startPipeline(t, "agree", cfg)
			if sl := p.ext.slot.Load(); sl.state != StateTrained {
				t.Fatalf("state %q (%s), want trained", sl.state, sl.reason)
			}
			p.sendSpans(t, spans)
			if err := p.proc.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			p.waitCaughtUp(t, 30*time.Second)
			if err := p.ext.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			live := readPredictions(t, cfg.PredictionsFile)

			// Offline, on the backend the extension served on.
			loaded, err := predictor.LoadModel(modelPath)
			if err != nil {
				t.Fatal(err)
			}
			offline, err := predictor.PredictTraces(loaded, []*predictor.Trace{tr}, p.ext.backend)
			if err != nil {
				t.Fatal(err)
			}
			want := offline[0]
			// The last seconds hold requests still in flight when the run ended:
			// they have no spans, so the collector cannot see them.
			lastNs := tr.StartNs + int64(tr.Ticks)*tr.TickNs - int64(3*time.Second)
			compared, maxDiff := 0, 0.0
			for _, lp := range live {
				tk := int((lp.StartNs - tr.StartNs) / tr.TickNs)
				if lp.State != StateTrained || !lp.Ready || tk < m.Card.Shape.Window-1 || lp.EndNs > lastNs {
					continue
				}
				w := want.Probs[tk]
				for i, svc := range want.Services {
					maxDiff = math.Max(maxDiff, math.Abs(float64(w[i])-lp.Culprits[svc]))
				}
				maxDiff = math.Max(maxDiff, math.Abs(float64(w[len(w)-1])-lp.Violation))
				compared++
			}
			t.Logf("backend %s: %d ticks compared (of %d live, %d offline), max |online - offline| = %.3g",
				p.ext.backend, compared, len(live), tr.Ticks, maxDiff)
			if compared < 60 {
				t.Fatalf("only %d ticks compared", compared)
			}
			if maxDiff > 1e-4 {
				t.Fatalf("online and offline differ by %g", maxDiff)
			}
		})
	}
}

// randomModel wraps seeded random weights (of an ensemble of members
// networks when members > 1) with norms fitted on tr: the agreement holds
// for any weights.
func randomModel(t testing.TB, tr *predictor.Trace, window, members int) *predictor.Model {
	t.Helper()
	fs, err := predictor.FitFeatures([]*predictor.Trace{tr}, predictor.FeatureNames) // every feature
	if err != nil {
		t.Fatal(err)
	}
	shape := predictor.Shape{Services: len(fs.Services), Features: len(fs.Features), Window: window, Kernel: 3, Channels: 4, Hidden: 8, Members: members}
	params, err := predictor.NewParams(shape, 11)
	if err != nil {
		t.Fatal(err)
	}
	return &predictor.Model{Card: predictor.Card{Format: predictor.ModelFormat, Features: *fs, Shape: shape,
		TickMs: tr.TickNs / 1e6, HorizonMs: 2000, Fingerprint: predictor.Fingerprint(fs.Services, tr.Edges)}, Params: params}
}
