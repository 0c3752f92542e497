package seerpredictorextension

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/predictor"
)

// tickOf is a tick at start with one sample per service.
func tickOf(start time.Time, services ...string) predictor.RawTick {
	b := series.Batch{Start: start, End: start.Add(100 * time.Millisecond)}
	for _, s := range services {
		b.Samples = append(b.Samples, series.Sample{Key: series.Key{Service: s, Instance: "i"}, Depth: 1})
	}
	return predictor.NewRawTick(b)
}

func graphChangeExtension(t *testing.T, retraining bool, services ...string) *predictorExtension {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Retraining.Enabled = retraining
	e := newPredictorExtension(extensiontest.NewNopSettings(NewFactory().Type()), cfg)
	m := &predictor.Model{}
	m.Card.Features.Services = services
	set := map[string]bool{}
	for _, s := range services {
		set[s] = true
	}
	e.slot.Store(&slot{model: m, services: set, version: "file-1", state: StateTrained})
	return e
}

// TestServiceAppearsOnTicks: a service appears under the model when a tick
// has its series; a name the graph adds without one (a peer known from its
// callers, a client that only calls) changes nothing.
func TestServiceAppearsOnTicks(t *testing.T) {
	t0 := time.Unix(1000, 0)
	e := graphChangeExtension(t, false, "backend", "frontend")
	e.onEvent(depgraph.Event{Type: depgraph.ServiceAdded, Time: t0, Service: "loadgen"})
	e.onEvent(depgraph.Event{Type: depgraph.ServiceAdded, Time: t0, Service: "external-api"})
	rt := tickOf(t0, "frontend", "backend")
	if got := e.newService(&rt); got != "" || e.slot.Load().state != StateTrained {
		t.Fatalf("known services: new %q, state %s", got, e.slot.Load().state)
	}
	rt = tickOf(t0.Add(time.Second), "frontend", "backend", "x")
	if got := e.newService(&rt); got != "x" {
		t.Fatalf("new service %q, want x", got)
	}
}

// TestChangesWhileRetrainingIsDue: after a change, a service the ticks
// since then did not have, or the removal of one they had, is a further
// change (the wait for min_history starts again, the job is cancelled);
// the removal of a name no tick had is not; and a model swapped in, then
// replaced by a further change before its result arrived, leaves the
// retraining due.
func TestChangesWhileRetrainingIsDue(t *testing.T) {
	t0 := time.Unix(1000, 0)
	e := graphChangeExtension(t, true, "a", "b")
	cancelled := 0
	rt := tickOf(t0, "a", "b", "c")
	if svc := e.newService(&rt); svc != "c" {
		t.Fatalf("new service %q, want c", svc)
	}
	e.graphChanged(depgraph.ServiceAdded, "c", "", t0)
	if !e.pending || e.slot.Load().state != StateRetraining {
		t.Fatalf("pending %v, state %s", e.pending, e.slot.Load().state)
	}
	e.cancelJob = func() { cancelled++ }
	steps := []struct {
		at       time.Duration
		tick     []string // a tick at t0+at, or
		removed  string   // a removal at t0+at
		changeAt time.Duration
		cancels  int
	}{
		{1, []string{"a", "b", "c"}, "", 0, 0},
		{2, []string{"a", "b", "c"}, "", 0, 0},
		{3, nil, "external-api", 0, 0},
		{4, []string{"a", "b", "c", "d"}, "", 4, 1},
		{5, []string{"a", "b", "c", "d"}, "", 4, 1},
		{6, nil, "b", 6, 2},
		{7, nil, "b", 6, 2},
	}
	for _, st := range steps {
		at := t0.Add(st.at * time.Second)
		if st.tick != nil {
			rt := tickOf(at, st.tick...)
			if svc := e.newService(&rt); svc != "" {
				e.graphChanged(depgraph.ServiceAdded, svc, "", rt.Start)
			}
		} else {
			e.onEvent(depgraph.Event{Type: depgraph.ServiceRemoved, Time: at, Service: st.removed})
		}
		if got := e.changeAt.Sub(t0); got != st.changeAt*time.Second || cancelled != st.cancels {
			t.Fatalf("at %ds: change at %v with %d cancels, want %ds with %d", st.at, got, cancelled, st.changeAt, st.cancels)
		}
	}

	// A model trained since the change is swapped in; a further change
	// replaces it before the result arrives.
	m := &predictor.Model{}
	m.Card.Features.Services = []string{"a", "c", "d"}
	installed := &slot{model: m, services: map[string]bool{"a": true, "c": true, "d": true}, version: "retrained-2", state: StateTrained}
	if !e.swap(e.slot.Load(), installed) {
		t.Fatal("swap refused")
	}
	e.cancelJob = nil
	e.onEvent(depgraph.Event{Type: depgraph.ServiceRemoved, Time: t0.Add(8 * time.Second), Service: "c"})
	e.jobRunning = true
	e.onResult(result{kind: kindScratch, outcome: outcomeAccepted, installed: installed})
	if !e.pending || e.slot.Load().model != nil {
		t.Fatalf("after a change that replaced the new model: pending %v, serving %s", e.pending, e.slot.Load().version)
	}
}
