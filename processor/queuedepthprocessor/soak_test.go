package queuedepthprocessor

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	iopc "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/seer-qos/seer/processor/queuedepthprocessor/internal/metadata"
)

// soakConfig shapes a soak: a churning set of instances under steady load.
type soakConfig struct {
	eventTime    time.Duration // event time covered
	paced        bool          // follow the wall clock (the real soak)
	spansPerSec  int           // event-time span rate
	instances    int           // live instance slots
	services     int
	lifetime     time.Duration // an instance is replaced after this (event time)
	warmup       time.Duration // memory is compared after this
	sampleEvery  time.Duration // event time between memory samples
	maxInstances int
}

// soakResult is what a soak measured.
type soakResult struct {
	spans            int
	heapMin, heapMax uint64
	samples          []uint64
	liveInstances    float64
	instanceLimit    float64
	overflow         float64
	expired          float64
	graphOps         float64
	graphOpsLimit    float64
	hubBatches       uint64
}

func runSoak(t *testing.T, sc soakConfig) soakResult {
	cfg := createDefaultConfig().(*Config)
	cfg.HTTP.Get().NetAddr.Endpoint = "localhost:0"
	cfg.SeriesExpiry = sc.lifetime / 2
	cfg.MaxInstances = sc.maxInstances
	cfg.Graph.Expiry = sc.lifetime
	cfg.Graph.Window = 5 * time.Second
	cfg.Graph.MaxOperations = 500
	set := processortest.NewNopSettings(metadata.Type)
	set.ID = component.NewIDWithName(metadata.Type, "soak")
	ctx := context.Background()
	proc, err := NewFactory().CreateTraces(ctx, set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, proc.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, proc.Shutdown(ctx)) }()
	sharedMu.Lock()
	sh := shareds[set.ID]
	sharedMu.Unlock()

	// A predictor-like subscriber that keeps up.
	sub := sh.hub.Subscribe("soak", 64)
	drained := make(chan uint64)
	go func() {
		n := uint64(0)
		for range sub.C {
			n++
		}
		drained <- n
	}()

	rng := rand.New(rand.NewPCG(3, 4))
	offsets := make([]int64, sc.instances)
	for i := range offsets {
		offsets[i] = rng.Int64N(int64(sc.lifetime))
	}
	const batchEvery = 50 * time.Millisecond
	perBatch := sc.spansPerSec * int(batchEvery) / int(time.Second) / 3 // three spans per trace
	var res soakResult
	start := time.Now()
	nextSample := sc.warmup
	traceN := uint64(0)
	for et := time.Duration(0); et < sc.eventTime; et += batchEvery {
		if sc.paced {
			if d := time.Until(start.Add(et)); d > 0 {
				time.Sleep(d) // load shape, not synchronisation
			}
		}
		td := ptrace.NewTraces()
		for range perBatch {
			traceN++
			at := base + int64(et) + rng.Int64N(int64(batchEvery))
			slot := rng.IntN(sc.instances)
			gen := (int64(et) + offsets[slot]) / int64(sc.lifetime)
			caller := slot % sc.services
			callee := (caller + 1 + rng.IntN(3)) % sc.services
			op := fmt.Sprintf("op-%d", (int64(slot)+gen)%7+gen%50*7)
			addSoakSpan(td, fmt.Sprintf("svc-%d", caller), fmt.Sprintf("i-%d-%d", slot, gen), op, ptrace.SpanKindServer, traceN, 1, 0, at, at+int64(20*time.Millisecond))
			addSoakSpan(td, fmt.Sprintf("svc-%d", caller), fmt.Sprintf("i-%d-%d", slot, gen), "call", ptrace.SpanKindClient, traceN, 2, 1, at+int64(2*time.Millisecond), at+int64(18*time.Millisecond))
			addSoakSpan(td, fmt.Sprintf("svc-%d", callee), fmt.Sprintf("i-%d-%d", (slot*7919)%sc.instances, gen), "call", ptrace.SpanKindServer, traceN, 3, 2, at+int64(3*time.Millisecond), at+int64(17*time.Millisecond))
		}
		res.spans += td.SpanCount()
		require.NoError(t, proc.ConsumeTraces(ctx, td))
		if et >= nextSample {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			res.samples = append(res.samples, ms.HeapAlloc)
			nextSample += sc.sampleEvery
		}
	}
	fams := scrape(t, "http://"+sh.Addr().String()+MetricsPath)
	res.liveInstances = metricValue(fams, "seer_queuedepth_series", "instance")
	res.instanceLimit = metricValue(fams, "seer_queuedepth_series_limit", "instance")
	res.overflow = metricValue(fams, "seer_queuedepth_overflow_spans_total", "instance")
	res.expired = metricValue(fams, "seer_queuedepth_series_expired_total", "")
	res.graphOps = metricValue(fams, "seer_graph_size", "operation")
	res.graphOpsLimit = metricValue(fams, "seer_graph_limit", "operation")
	sub.Close()
	res.hubBatches = <-drained
	res.heapMin, res.heapMax = res.samples[0], res.samples[0]
	for _, s := range res.samples {
		res.heapMin, res.heapMax = min(res.heapMin, s), max(res.heapMax, s)
	}
	t.Logf("soak: %d spans over %v event time in %v wall; live heap after GC min %.1f MiB, max %.1f MiB (max/min %.3f) over %d samples; "+
		"instances %v of limit %v, overflow spans %v, expired series %v, graph operations %v of limit %v, hub batches %d",
		res.spans, sc.eventTime, time.Since(start).Round(time.Second), float64(res.heapMin)/(1<<20), float64(res.heapMax)/(1<<20),
		float64(res.heapMax)/float64(res.heapMin), len(res.samples), res.liveInstances, res.instanceLimit, res.overflow, res.expired,
		res.graphOps, res.graphOpsLimit, res.hubBatches)
	mib := make([]string, len(res.samples))
	for i, s := range res.samples {
		mib[i] = fmt.Sprintf("%.1f", float64(s)/(1<<20))
	}
	t.Logf("soak: live heap samples (MiB): %s", strings.Join(mib, " "))
	return res
}

func addSoakSpan(td ptrace.Traces, svc, inst, name string, kind ptrace.SpanKind, trace, id, parent uint64, start, end int64) {
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", svc)
	rs.Resource().Attributes().PutStr("service.instance.id", inst)
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetName(name)
	sp.SetKind(kind)
	sp.SetTraceID(traceID(trace))
	sp.SetSpanID(spanID(trace<<2 | id))
	if parent != 0 {
		sp.SetParentSpanID(spanID(trace<<2 | parent))
	}
	sp.SetStartTimestamp(pcommon.Timestamp(start))
	sp.SetEndTimestamp(pcommon.Timestamp(end))
}

func scrape(t *testing.T, url string) map[string]*dto {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)
	return fams
}

// metricValue is the value of the series of name whose first label has
// value label ("" for a series without labels).
func metricValue(fams map[string]*dto, name, label string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	for _, m := range f.GetMetric() {
		if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

func checkSoak(t *testing.T, sc soakConfig, res soakResult) {
	assert.LessOrEqual(t, float64(res.heapMax), 1.10*float64(res.heapMin), "live heap flat within 10%% after warm-up")
	assert.LessOrEqual(t, res.liveInstances, res.instanceLimit+float64(sc.services), "instances within the cap (plus one overflow series per service)")
	assert.Equal(t, float64(sc.maxInstances), res.instanceLimit, "the cap is reported")
	assert.Positive(t, res.overflow, "the churn overflows the cap, counted")
	assert.Positive(t, res.expired, "stale series expire")
	assert.LessOrEqual(t, res.graphOps, res.graphOpsLimit)
	assert.Positive(t, res.hubBatches)
}

// TestSoakShort is the soak compressed in time: 3 minutes of event time with
// the whole churn, as fast as the processor goes (about 20 s on a busy
// core). The 10-minute wall-clock soak is TestSoak (build tag soak).
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	sc := soakConfig{
		eventTime: 3 * time.Minute, spansPerSec: 6_000, instances: 10_000, services: 50,
		lifetime: 30 * time.Second, warmup: 60 * time.Second, sampleEvery: 10 * time.Second, maxInstances: 12_000,
	}
	checkSoak(t, sc, runSoak(t, sc))
}

type dto = iopc.MetricFamily
