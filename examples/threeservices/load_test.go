package threeservices

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/seer-qos/seer/instrumentation/thrifttracing"
)

// TestRunOpenLoop runs the whole example the way `make run` does, for a
// moment, and checks that every completed request's trace reached the
// receiver by the time Run returned (Shutdown flushes).
func TestRunOpenLoop(t *testing.T) {
	sink := new(consumertest.TracesSink)
	endpoint := startReceiver(t, sink)
	// The deadline is how long the load runs, the end of the test's input,
	// not a synchronisation.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	stats, err := Run(ctx, Config{
		CollectorEndpoint: endpoint,
		Exporter:          thrifttracing.ExporterConfig{FlushInterval: 50 * time.Millisecond},
	}, 200)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Requests == 0 || stats.Errors != 0 || stats.P50 <= 0 || stats.Max < stats.P99 || stats.P99 < stats.P50 {
		t.Fatalf("stats %v (first error %v)", stats, stats.FirstError)
	}
	if got, want := sink.SpanCount(), 7*int(stats.Requests); got != want {
		t.Errorf("receiver got %d spans for %d requests, want %d", got, stats.Requests, want)
	}
	t.Log(stats)
}

func TestLoadArguments(t *testing.T) {
	var a App
	if _, err := a.RunOpenLoop(context.Background(), 0, 0); err == nil {
		t.Error("rate 0 accepted")
	}
	if _, err := a.RunClosedLoop(context.Background(), 0, 1); err == nil {
		t.Error("n 0 accepted")
	}
}
