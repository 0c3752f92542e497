package queuedepthprocessor

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/processor/queuedepthprocessor/internal/metadata"
)

// testSpan describes one span to build.
type testSpan struct {
	service, instance string
	name              string
	kind              ptrace.SpanKind
	trace             uint64
	id, parent        uint64
	startNS, endNS    int64
	err               bool
	attrs             map[string]any
	traceState        string
}

func traceID(n uint64) pcommon.TraceID {
	var id [16]byte
	binary.BigEndian.PutUint64(id[8:], n)
	return id
}

func spanID(n uint64) pcommon.SpanID {
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], n)
	return id
}

// buildTraces puts each span in its own resource (as separate senders would).
func buildTraces(spans []testSpan) ptrace.Traces {
	td := ptrace.NewTraces()
	for _, s := range spans {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", s.service)
		if s.instance != "" {
			rs.Resource().Attributes().PutStr("service.instance.id", s.instance)
		}
		sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetName(s.name)
		sp.SetKind(s.kind)
		sp.SetTraceID(traceID(s.trace))
		sp.SetSpanID(spanID(s.id))
		if s.parent != 0 {
			sp.SetParentSpanID(spanID(s.parent))
		}
		sp.SetStartTimestamp(pcommon.Timestamp(s.startNS))
		sp.SetEndTimestamp(pcommon.Timestamp(s.endNS))
		if s.err {
			sp.Status().SetCode(ptrace.StatusCodeError)
		}
		if s.traceState != "" {
			sp.TraceState().FromRaw(s.traceState)
		}
		if s.attrs != nil {
			if err := sp.Attributes().FromRaw(s.attrs); err != nil {
				panic(err)
			}
		}
	}
	return td
}

// harness is a started processor with a subscriber on its hub.
type harness struct {
	t    *testing.T
	proc processor.Traces
	next *consumertest.TracesSink
	sub  *series.Subscription
	hub  string
	sh   *shared
}

func newHarness(t *testing.T, name string, mutate func(*Config)) *harness {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.HTTP.Get().NetAddr.Endpoint = "localhost:0"
	if mutate != nil {
		mutate(cfg)
	}
	set := processortest.NewNopSettings(metadata.Type)
	set.ID = component.NewIDWithName(metadata.Type, name)
	// Subscribe before the processor exists: start order must not matter.
	hub := series.DefaultRegistry.Acquire(set.ID.String())
	sub := hub.Subscribe("test", 1<<17)
	next := new(consumertest.TracesSink)
	proc, err := NewFactory().CreateTraces(context.Background(), set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	sharedMu.Lock()
	sh := shareds[set.ID]
	sharedMu.Unlock()
	h := &harness{t: t, proc: proc, next: next, sub: sub, hub: set.ID.String(), sh: sh}
	t.Cleanup(func() { series.DefaultRegistry.Release(h.hub) })
	return h
}

func (h *harness) consume(spans []testSpan) {
	h.t.Helper()
	require.NoError(h.t, h.proc.ConsumeTraces(context.Background(), buildTraces(spans)))
}

// stop shuts the processor down (flushing every tick) and returns all the
// batches the subscriber got.
func (h *harness) stop() []series.Batch {
	h.t.Helper()
	require.NoError(h.t, h.proc.Shutdown(context.Background()))
	h.sub.Close()
	var out []series.Batch
	for b := range h.sub.C {
		out = append(out, b)
	}
	require.Zero(h.t, h.sub.Dropped())
	return out
}
