package queuedepthprocessor

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/seer-qos/seer/internal/seerattr"
	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/processor/queuedepthprocessor/internal/metadata"
)

const msNS = int64(time.Millisecond)

// base is an arbitrary event time far from the wall clock: replayed traces.
var base = time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC).Truncate(time.Second).UnixNano()

func server(service, instance string, id uint64, startMS, endMS int64) testSpan {
	return testSpan{service: service, instance: instance, name: "op", kind: ptrace.SpanKindServer,
		trace: id, id: id, startNS: base + startMS*msNS, endNS: base + endMS*msNS}
}

// seriesOf returns the samples of key by tick start (ms after base).
func seriesOf(batches []series.Batch, key series.Key) map[int64]series.Sample {
	out := map[int64]series.Sample{}
	for _, b := range batches {
		for _, s := range b.Samples {
			if s.Key == key {
				out[(b.Start.UnixNano()-base)/msNS] = s
			}
		}
	}
	return out
}

type tickWant struct {
	tickMS                         int64
	depth, mean, instant, reported float64
	arrivals, completions          float64
}

func checkTicks(t *testing.T, got map[int64]series.Sample, wants []tickWant) {
	t.Helper()
	for _, w := range wants {
		s, ok := got[w.tickMS]
		if !assert.Truef(t, ok, "no sample for tick %d ms", w.tickMS) {
			continue
		}
		assert.InDeltaf(t, w.depth, s.Depth, 1e-9, "depth, tick %d", w.tickMS)
		assert.InDeltaf(t, w.mean, s.MeanDepth, 1e-9, "mean depth, tick %d", w.tickMS)
		assert.InDeltaf(t, w.instant, s.InstantDepth, 1e-9, "instant depth, tick %d", w.tickMS)
		if math.IsNaN(w.reported) {
			assert.Truef(t, math.IsNaN(s.ReportedDepth), "no reported depth, tick %d", w.tickMS)
		} else {
			assert.InDeltaf(t, w.reported, s.ReportedDepth, 1e-9, "reported depth, tick %d", w.tickMS)
		}
		assert.InDeltaf(t, w.arrivals, s.Arrivals, 1e-9, "arrivals, tick %d", w.tickMS)
		assert.InDeltaf(t, w.completions, s.Completions, 1e-9, "completions, tick %d", w.tickMS)
	}
}

var nan = math.NaN()

// Plain OTLP spans, out of order, split over calls, with a duplicate, a late
// and a clipped span: A=[10,250) B=[50,120) C=[130,340) on frontend/f1.
func TestProcessorExactDepthsPlainSpans(t *testing.T) {
	h := newHarness(t, "exact", func(c *Config) { c.AllowedLateness = 500 * time.Millisecond })
	key := series.Key{Service: "frontend", Instance: "f1"}
	a, b, c := server("frontend", "f1", 1, 10, 250), server("frontend", "f1", 2, 50, 120), server("frontend", "f1", 3, 130, 340)
	h.consume([]testSpan{c})
	h.consume([]testSpan{a, c}) // c again: a duplicate
	h.consume([]testSpan{b})
	// Another instance moves the watermark to 800 ms.
	h.consume([]testSpan{server("frontend", "f2", 9, 900, 1300)})
	h.consume([]testSpan{
		server("frontend", "f1", 4, 150, 700), // ended before the watermark: late
		server("frontend", "f1", 5, 750, 850), // started before it: clipped
	})
	// Spans pass through unchanged.
	assert.Equal(t, 7, h.next.SpanCount())

	batches := h.stop()
	checkTicks(t, seriesOf(batches, key), []tickWant{
		{tickMS: 0, depth: 1.4, mean: 1.4, instant: 2, reported: nan, arrivals: 2},
		{tickMS: 100, depth: 1.9, mean: 1.9, instant: 2, reported: nan, arrivals: 1, completions: 1},
		{tickMS: 200, depth: 1.5, mean: 1.5, instant: 1, reported: nan, completions: 1},
		{tickMS: 300, depth: 0.4, mean: 0.4, instant: 0, reported: nan, completions: 1},
		{tickMS: 400, reported: nan}, {tickMS: 700, reported: nan},
		{tickMS: 800, depth: 0.5, mean: 0.5, reported: nan, completions: 1},
	})
	st := h.sh.engine.Stats()
	assert.Equal(t, uint64(1), st.Duplicates)
	assert.Equal(t, uint64(1), st.LateDropped)
	assert.Equal(t, uint64(1), st.LateClipped)
	assert.Equal(t, uint64(5), st.Accepted)
}

// seerthrift spans carry the software queue reading; it becomes the depth
// signal while the derived depth is still reported.
func TestProcessorUsesReportedQueues(t *testing.T) {
	h := newHarness(t, "reported", nil)
	key := series.Key{Service: "storage", Instance: "s1"}
	s1 := server("storage", "s1", 1, 0, 100)
	s1.attrs = map[string]any{seerattr.OutstandingRequests: int64(6), seerattr.NICQueueDepth: int64(1500), seerattr.RPCSystem: "thrift"}
	s2 := server("storage", "s1", 2, 20, 60)
	s2.attrs = map[string]any{seerattr.OutstandingRequests: int64(8)}
	s3 := server("storage", "s1", 3, 130, 150) // no reading: derived depth
	h.consume([]testSpan{s1, s2, s3})
	batches := h.stop()
	got := seriesOf(batches, key)
	checkTicks(t, got, []tickWant{
		{tickMS: 0, depth: 7, mean: 1.4, instant: 1, reported: 7, arrivals: 2, completions: 1}, // s1 ends at the tick's end
		{tickMS: 100, depth: 0.2, mean: 0.2, instant: 0, reported: nan, arrivals: 1, completions: 2},
	})
	assert.InDelta(t, 1500, got[0].NICDepth, 1e-9)
	assert.Equal(t, series.SourceSpans|series.SourceReported|series.SourceNIC, got[0].Sources)
}

// A sampled span counts 1/p times.
func TestProcessorScalesBySamplingProbability(t *testing.T) {
	h := newHarness(t, "sampled", nil)
	key := series.Key{Service: "user", Instance: "u1"}
	s1 := server("user", "u1", 1, 0, 50)
	s1.traceState = "ot=th:c" // rejection threshold 0xc/16: probability 1/4
	s2 := server("user", "u1", 2, 0, 50)
	s2.attrs = map[string]any{"sampler.type": "probabilistic", "sampler.param": 0.1}
	h.consume([]testSpan{s1, s2})
	got := seriesOf(h.stop(), key)
	checkTicks(t, got, []tickWant{{tickMS: 0, depth: 7, mean: 7, reported: nan, arrivals: 14, completions: 14}})
}

func TestTracestateProbability(t *testing.T) {
	for _, tc := range []struct {
		ts   string
		p    float64
		okay bool
	}{
		{"ot=th:0", 1, true},
		{"ot=th:8", 0.5, true},
		{"vendor=x,ot=rv:abcdef12345678;th:c", 0.25, true},
		{"ot=p:3", 0.125, true},
		{"ot=th:", 0, false},
		{"ot=th:zz", 0, false},
		{"other=th:8", 0, false},
	} {
		p, ok := tracestateProbability(tc.ts)
		assert.Equal(t, tc.okay, ok, tc.ts)
		assert.InDelta(t, tc.p, p, 1e-12, tc.ts)
	}
}

// The Collector builds the processor once per pipeline: both instances of one
// ID feed one engine and one hub, and the last shutdown flushes it.
func TestProcessorSharedAcrossPipelines(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.HTTP.Get().NetAddr.Endpoint = "localhost:0"
	set := processortest.NewNopSettings(metadata.Type)
	set.ID = component.NewIDWithName(metadata.Type, "shared")
	hub := series.DefaultRegistry.Acquire(set.ID.String())
	defer series.DefaultRegistry.Release(set.ID.String())
	sub := hub.Subscribe("test", 1024)

	f := NewFactory()
	ctx := context.Background()
	p1, err := f.CreateTraces(ctx, set, cfg, new(consumertest.TracesSink))
	require.NoError(t, err)
	p2, err := f.CreateTraces(ctx, set, cfg, new(consumertest.TracesSink))
	require.NoError(t, err)
	require.NoError(t, p1.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, p2.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, p1.ConsumeTraces(ctx, buildTraces([]testSpan{server("a", "1", 1, 0, 50)})))
	require.NoError(t, p2.ConsumeTraces(ctx, buildTraces([]testSpan{server("a", "1", 2, 10, 60)})))
	require.NoError(t, p1.Shutdown(ctx))
	require.NoError(t, p2.Shutdown(ctx))
	sub.Close()
	var batches []series.Batch
	for b := range sub.C {
		batches = append(batches, b)
	}
	got := seriesOf(batches, series.Key{Service: "a", Instance: "1"})
	checkTicks(t, got, []tickWant{{tickMS: 0, depth: 1, mean: 1, reported: nan, arrivals: 2, completions: 2}})
}

// A span from a host whose clock is far ahead is refused and counted; it
// does not move the watermark.
func TestProcessorRefusesFutureSpans(t *testing.T) {
	h := newHarness(t, "future", nil)
	now := time.Now().UnixNano()
	future := testSpan{service: "a", instance: "1", name: "op", kind: ptrace.SpanKindServer, trace: 1, id: 1,
		startNS: now + int64(time.Hour), endNS: now + int64(time.Hour) + msNS}
	h.consume([]testSpan{future, server("a", "1", 2, 0, 50)})
	assert.Equal(t, 2, h.next.SpanCount(), "passed through all the same")
	h.sh.mu.Lock()
	refused, wm := h.sh.future, h.sh.engine.Watermark()
	h.sh.mu.Unlock()
	assert.Equal(t, uint64(1), refused)
	assert.Less(t, wm.UnixNano(), base+msNS*50)
	got := seriesOf(h.stop(), series.Key{Service: "a", Instance: "1"})
	checkTicks(t, got, []tickWant{{tickMS: 0, depth: 0.5, mean: 0.5, reported: nan, arrivals: 1, completions: 1}})
}

// TestProcessorJoinsCallsForNetworkTime: a CLIENT span and the SERVER span
// it called give the callee's network time, weighted by the less likely
// sampled half; a CONSUMER span is not joined with its PRODUCER.
func TestProcessorJoinsCallsForNetworkTime(t *testing.T) {
	h := newHarness(t, "network", nil)
	call := testSpan{service: "front", instance: "f1", name: "get", kind: ptrace.SpanKindClient, trace: 1, id: 10,
		startNS: base + 10*msNS, endNS: base + 80*msNS, traceState: "ot=th:8"} // probability 1/2
	srv := testSpan{service: "user", instance: "u1", name: "get", kind: ptrace.SpanKindServer, trace: 1, id: 11, parent: 10,
		startNS: base + 20*msNS, endNS: base + 60*msNS}
	prod := testSpan{service: "front", instance: "f1", name: "send", kind: ptrace.SpanKindProducer, trace: 2, id: 20,
		startNS: base + 10*msNS, endNS: base + 12*msNS}
	cons := testSpan{service: "user", instance: "u1", name: "recv", kind: ptrace.SpanKindConsumer, trace: 2, id: 21, parent: 20,
		startNS: base + 30*msNS, endNS: base + 40*msNS}
	h.consume([]testSpan{srv, prod, cons, call})
	assert.Zero(t, h.sh.engine.PendingCalls(), "the CONSUMER span does not wait for a CLIENT span")
	got := seriesOf(h.stop(), series.Key{Service: "user", Instance: "u1"})
	require.NotEmpty(t, got)
	assert.Equal(t, series.Latency{Count: 2, Sum: 60 * time.Millisecond, Min: 30 * time.Millisecond, Max: 30 * time.Millisecond}, got[0].Network,
		"70 ms at the caller, 40 ms served, counted twice")
	assert.Equal(t, uint64(1), h.sh.engine.Stats().CallsMatched)
}

// TestNamesNotUTF8: a service name that is not UTF-8 (pdata does not check)
// is served with its bad bytes replaced; /metrics stays valid and the
// pipeline keeps going.
func TestNamesNotUTF8(t *testing.T) {
	h := newHarness(t, "utf8", nil)
	h.consume([]testSpan{server("bad\xffsvc", "i", 1, 0, 10)})
	h.consume([]testSpan{server("ok", "i", 2, 5000, 5010)}) // closes the first ticks
	mfs, err := h.sh.registry().Gather()
	require.NoError(t, err)
	found := false
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				found = found || l.GetName() == "service" && l.GetValue() == "bad\uFFFDsvc"
			}
		}
	}
	assert.True(t, found, "no series of the service with its bad byte replaced")
	h.consume([]testSpan{server("ok", "i", 3, 9000, 9010)})
	batches := h.stop()
	require.NotEmpty(t, batches)
}

// TestSkewLimitNotInherited: processors share the pool of batches; one with
// max_clock_skew 0 (no limit) does not refuse spans by the limit another
// one set.
func TestSkewLimitNotInherited(t *testing.T) {
	limited := newHarness(t, "skewed", func(c *Config) { c.MaxClockSkew = time.Minute })
	open := newHarness(t, "unlimited", func(c *Config) { c.MaxClockSkew = 0 })
	future := time.Now().Add(10*time.Minute).UnixMilli() - base/int64(time.Millisecond)
	for i := range 50 {
		limited.consume([]testSpan{server("a", "i", uint64(i+1), 0, 10)})
		open.consume([]testSpan{server("b", "i", uint64(i+1), future, future+10)})
	}
	open.sh.mu.Lock()
	refused := open.sh.future
	open.sh.mu.Unlock()
	assert.Zero(t, refused, "spans refused as from the future without a limit")
	limited.stop()
	open.stop()
}
