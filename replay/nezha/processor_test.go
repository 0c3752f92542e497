package nezha

import (
	"context"
	"slices"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/processor/queuedepthprocessor"
)

// The spans sent to an endpoint, through the queuedepth processor with its
// default configuration, give exactly the series the replay computes.
func TestReplaySeriesAreWhatTheProcessorComputes(t *testing.T) {
	f := queuedepthprocessor.NewFactory()
	cfg := f.CreateDefaultConfig().(*queuedepthprocessor.Config)
	cfg.HTTP.Get().NetAddr.Endpoint = "localhost:0"
	set := processortest.NewNopSettings(f.Type())
	set.ID = component.NewIDWithName(f.Type(), "replaytest")
	hub := series.DefaultRegistry.Acquire(set.ID.String())
	defer series.DefaultRegistry.Release(set.ID.String())
	sub := hub.Subscribe("test", 1<<17)
	proc, err := f.CreateTraces(context.Background(), set, cfg, new(consumertest.TracesSink))
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}

	var replayed tickLog
	rc := aroundReturn
	rc.OnTick = replayed.onTick
	rc.Send = func(td ptrace.Traces) error { return proc.ConsumeTraces(context.Background(), td) }
	res := replayDay(t, "2022-08-22", rc)

	if err := proc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	sub.Close()
	var live tickLog
	for b := range sub.C {
		live.onTick(b)
	}
	if sub.Dropped() != 0 {
		t.Fatalf("subscriber dropped %d batches", sub.Dropped())
	}
	if len(replayed.ticks) == 0 || res.Series.LateDropped != 0 {
		t.Fatalf("%d ticks replayed, series stats %+v", len(replayed.ticks), res.Series)
	}
	if !slices.EqualFunc(replayed.ticks, live.ticks, batchEqual) {
		for i := 0; i < min(len(replayed.ticks), len(live.ticks)); i++ {
			if !batchEqual(replayed.ticks[i], live.ticks[i]) {
				t.Fatalf("tick %d differs:\nreplay %+v\nlive   %+v", i, replayed.ticks[i], live.ticks[i])
			}
		}
		t.Fatalf("%d ticks replayed, %d from the processor", len(replayed.ticks), len(live.ticks))
	}
}
