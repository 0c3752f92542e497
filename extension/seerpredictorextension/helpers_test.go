package seerpredictorextension

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/processor/queuedepthprocessor"
	"github.com/seer-qos/seer/sim"
)

// pipeline is a queuedepth processor and a seerpredictor extension wired
// in process, as the Collector runs them.
type pipeline struct {
	proc processor.Traces
	ext  *predictorExtension
	hub  *series.Hub
	name string
}

func startPipeline(t *testing.T, name string, cfg *Config) *pipeline {
	t.Helper()
	pf := queuedepthprocessor.NewFactory()
	pcfg := pf.CreateDefaultConfig().(*queuedepthprocessor.Config)
	pcfg.HTTP = configoptional.None[confighttp.ServerConfig]()
	pset := processortest.NewNopSettings(pf.Type())
	pset.ID = component.NewIDWithName(pf.Type(), name)
	cfg.Source = pset.ID.String()
	cfg.HTTP = configoptional.None[confighttp.ServerConfig]()
	ef := NewFactory()
	eset := extensiontest.NewNopSettings(ef.Type())
	eset.ID = component.NewIDWithName(ef.Type(), name)
	ext, err := ef.Create(context.Background(), eset, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The extension starts first, as the Collector starts extensions before
	// pipelines: the hub is created by whichever side comes first.
	if err := ext.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	proc, err := pf.CreateTraces(context.Background(), pset, pcfg, new(consumertest.TracesSink))
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	p := &pipeline{proc: proc, ext: ext.(*predictorExtension), name: cfg.Source}
	p.hub = series.DefaultRegistry.Acquire(cfg.Source)
	t.Cleanup(func() { series.DefaultRegistry.Release(cfg.Source) })
	return p
}

// sendSpans sends the simulator's spans through the processor.
func (p *pipeline) sendSpans(t *testing.T, spans []sim.Span) {
	t.Helper()
	sink := sim.NewOTLPSink(func(td ptrace.Traces) error {
		return p.proc.ConsumeTraces(context.Background(), td)
	}, 2048)
	for i := range spans {
		if err := sink.Span(&spans[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
}

// waitCaughtUp waits until the extension has taken every tick the
// processor published.
func (p *pipeline) waitCaughtUp(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		took := testutil.ToFloat64(p.ext.metrics.ticks) + testutil.ToFloat64(p.ext.metrics.refused) + float64(p.ext.sub.Dropped())
		if took >= float64(p.hub.Published()) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the extension took %v of %d ticks in %v", took, p.hub.Published(), timeout)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

func readPredictions(t *testing.T, path string) []Prediction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Prediction
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var p Prediction
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("predictions file: %v", err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
