package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/seerattr"
	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore/cassandratest"
	"github.com/seer-qos/seer/internal/seerstore/pebblestore"
	"github.com/seer-qos/seer/internal/seerstore/seerstoretest"
	"github.com/seer-qos/seer/internal/series"
)

func TestMain(m *testing.M) { os.Exit(cassandratest.Main(m)) }

type store interface {
	seerstore.Writer
	seerstore.Reader
}

const tick = 100 * time.Millisecond

var base = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// fixture is what a test writes into a store and what the export of [start, end) must give back.
type fixture struct {
	start, end time.Time
	batches    []series.Batch // every stored tick, also outside [start, end)
	traces     ptrace.Traces
	graphs     []seerstore.GraphSnapshot
}

// sampleAt is tick i of a series: fields that are measured only on some ticks are NaN on others,
// as the queuedepth processor leaves them; latency only with completions, with a mean that is a
// whole number of ns (the store keeps the mean, the export rebuilds the sum).
func sampleAt(k series.Key, i, salt int) series.Sample {
	s := series.Sample{Key: k, MeanDepth: float64((i+salt)%17) / 3, InstantDepth: float64((i * 7) % 11),
		ReportedDepth: math.NaN(), NICDepth: math.NaN(), ListenBacklog: math.NaN(),
		Arrivals: float64((i + salt) % 9), Completions: float64(i % 4), Sources: series.SourceSpans}
	if i%3 == 0 {
		s.ReportedDepth = float64(i%5) + 0.25
		s.Sources |= series.SourceReported
	}
	if salt == 2 && i%5 == 0 {
		s.NICDepth = float64(i % 1000)
		s.ListenBacklog = float64(i % 3)
		s.Sources |= series.SourceNIC
	}
	s.Depth = s.MeanDepth
	if series.Has(s.ReportedDepth) {
		s.Depth = s.ReportedDepth
	}
	if s.Completions > 0 {
		s.Latency = series.Latency{Count: s.Completions, Sum: time.Duration(s.Completions) * time.Duration(1000+i), Max: time.Duration(5000 + i)}
	}
	if i%4 != 0 {
		s.Network = series.Latency{Count: float64(i % 4), Sum: time.Duration(i%4) * time.Duration(300+i), Max: time.Duration(400 + i)}
	}
	if i%5 == 0 {
		s.Failed = float64(i%3) + 0.5
	}
	return s
}

// newFixture stores ticks of three series from base-20s to base+3m (frontend-1 only from +70s)
// and exports [base, base+150s+50ms).
func newFixture(nspans int) fixture {
	f := fixture{start: base, end: base.Add(150*time.Second + 50*time.Millisecond)}
	for i := -200; i < 1800; i++ {
		b := series.Batch{Origin: series.OriginSpans, Start: base.Add(time.Duration(i) * tick), End: base.Add(time.Duration(i+1) * tick)}
		b.Samples = append(b.Samples, sampleAt(series.Key{Service: "frontend", Instance: "frontend-0"}, i+200, 0))
		if i >= 700 {
			b.Samples = append(b.Samples, sampleAt(series.Key{Service: "frontend", Instance: "frontend-1"}, i+200, 1))
		}
		b.Samples = append(b.Samples, sampleAt(series.Key{Service: "text", Instance: "text-0"}, i+200, 2))
		f.batches = append(f.batches, b)
	}
	g := seerstoretest.Gen{Seed: 3, Start: base.Add(-5 * time.Second), Step: 50 * time.Millisecond}
	f.traces = g.Traces(nspans)
	f.graphs = []seerstore.GraphSnapshot{
		{TsNs: base.Add(-time.Second).UnixNano(), Version: 1, Edges: []seerstore.GraphEdge{{Caller: "frontend", Callee: "old", Calls: 1}}},
		{TsNs: base.Add(time.Second).UnixNano(), Version: 2, Edges: []seerstore.GraphEdge{{Caller: "frontend", Callee: "text", Calls: 4}}},
		{TsNs: base.Add(100 * time.Second).UnixNano(), Version: 3, Edges: []seerstore.GraphEdge{
			{Caller: "text", Callee: "user-timeline", Calls: 2}, {Caller: "frontend", Callee: "text", Calls: 9},
			{Caller: "frontend", Callee: "text", Operation: "compose", Calls: 1}}},
		{TsNs: f.end.UnixNano(), Version: 4, Edges: []seerstore.GraphEdge{{Caller: "late", Callee: "text", Calls: 1}}},
	}
	return f
}

func (f fixture) write(t *testing.T, st seerstore.Writer) {
	t.Helper()
	ctx := context.Background()
	var pts []seerstore.SeriesPoint
	for _, b := range f.batches {
		pts = append(pts, seerstore.FromSeriesBatch(b)...)
	}
	require.NoError(t, st.WriteSeries(ctx, pts))
	v := seerstore.FromTraces(f.traces, seerstore.DefaultLimits(), time.Now())
	require.NoError(t, v.Err())
	require.NoError(t, st.WriteSpans(ctx, v.Spans))
	for _, g := range f.graphs {
		require.NoError(t, st.WriteGraph(ctx, g))
	}
}

// want returns the records the export of services must give: the stored ticks in [start, end),
// series indexed in order of first appearance, samples of a tick sorted by service and instance,
// with what the store does not keep (latency minimum) zero.
func (f fixture) want(services ...string) (keys []dataset.SeriesKey, recs []dataset.Record) {
	in := map[string]bool{}
	for _, s := range services {
		in[s] = true
	}
	index := map[series.Key]uint32{}
	for _, b := range f.batches {
		if b.Start.Before(f.start) || !b.Start.Before(f.end) {
			continue
		}
		samples := append([]series.Sample(nil), b.Samples...)
		sort.Slice(samples, func(i, j int) bool {
			if samples[i].Service != samples[j].Service {
				return samples[i].Service < samples[j].Service
			}
			return samples[i].Instance < samples[j].Instance
		})
		for _, s := range samples {
			if !in[s.Service] {
				continue
			}
			i, ok := index[s.Key]
			if !ok {
				i = uint32(len(keys))
				index[s.Key] = i
				keys = append(keys, dataset.SeriesKey{Service: s.Service, Instance: s.Instance})
			}
			s.Latency.Min, s.Network.Min = 0, 0
			recs = append(recs, dataset.Record{StartNs: b.Start.UnixNano(), Series: i, Sample: s})
		}
	}
	return keys, recs
}

// spanKey is what the export keeps of a span (rebuilt from the stored training fields).
type spanKey struct {
	service, instance, id, parent, name string
	start, end                          uint64
	outstanding, appReceive             int64
}

func spanKeys(td ptrace.Traces, from, to time.Time, services map[string]bool) []string {
	var out []string
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		svc, _ := rs.Resource().Attributes().Get("service.name")
		inst, _ := rs.Resource().Attributes().Get("service.instance.id")
		if !services[svc.Str()] {
			continue
		}
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j).Spans()
			for k := 0; k < ss.Len(); k++ {
				sp := ss.At(k)
				st := sp.StartTimestamp().AsTime()
				if st.Before(from) || !st.Before(to) {
					continue
				}
				o, _ := sp.Attributes().Get(seerattr.OutstandingRequests)
				a, _ := sp.Attributes().Get(seerattr.AppReceive)
				out = append(out, fmt.Sprintf("%+v", spanKey{svc.Str(), inst.Str(), sp.TraceID().String() + "/" + sp.SpanID().String(),
					sp.ParentSpanID().String(), sp.Name(), uint64(sp.StartTimestamp()), uint64(sp.EndTimestamp()), o.Int(), a.Int()}))
			}
		}
	}
	sort.Strings(out)
	return out
}

func readAll(t *testing.T, dir string) (*dataset.Dataset, []dataset.Record) {
	t.Helper()
	ds, err := dataset.Open(dir)
	require.NoError(t, err)
	r, err := ds.Series()
	require.NoError(t, err)
	defer r.Close()
	var recs []dataset.Record
	for {
		var rec dataset.Record
		err := r.Next(&rec)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	return ds, recs
}

// same compares records exactly, NaN equal to NaN (fmt prints floats in their shortest exact form).
func same(t *testing.T, want, got []dataset.Record) {
	t.Helper()
	require.Equal(t, len(want), len(got), "records")
	for i := range want {
		if w, g := fmt.Sprintf("%+v", want[i]), fmt.Sprintf("%+v", got[i]); w != g {
			t.Fatalf("record %d:\nwant %s\n got %s", i, w, g)
		}
	}
}

// roundTrip writes the fixture into st, exports it (all services, with spans) and compares.
func roundTrip(t *testing.T, st store, chunk time.Duration, traces int) {
	f := newFixture(traces)
	f.write(t, st)
	dir := t.TempDir()
	res, err := Export(context.Background(), st, dir, Options{Start: f.start, End: f.end, Spans: true, Store: "test", Chunk: chunk})
	require.NoError(t, err)
	assert.Equal(t, tick, res.Tick)

	ds, got := readAll(t, dir)
	m := ds.Manifest
	wantKeys, want := f.want("frontend", "text")
	assert.Equal(t, wantKeys, m.Series)
	same(t, want, got)
	assert.Equal(t, dataset.SourceExport, m.Source)
	assert.Equal(t, int64(tick), m.TickNs)
	assert.Equal(t, f.start.UnixNano(), m.StartNs)
	assert.Equal(t, f.end.UnixNano(), m.EndNs)
	assert.Equal(t, int64(len(want)), m.Counts.SeriesRecords)
	assert.Equal(t, int64(1501), m.Counts.Ticks)
	assert.Contains(t, m.Params["ground_truth"], "none")
	assert.Equal(t, "test", m.Params["store"])
	// The latest snapshot in range, between exported services (the generator's services have
	// spans, so user-timeline is one), one edge per (caller, callee, operation).
	assert.Equal(t, []dataset.Edge{{Caller: "frontend", Callee: "text"}, {Caller: "frontend", Callee: "text", Operation: "compose"},
		{Caller: "text", Callee: "user-timeline"}}, m.Edges)
	assert.Equal(t, []dataset.Service{{Name: "frontend", Instances: []string{"frontend-0", "frontend-1"}},
		{Name: "text", Instances: []string{"text-0"}}}, m.Services)
	faults, err := ds.Faults()
	require.NoError(t, err)
	assert.Empty(t, faults)
	violations, err := ds.Violations()
	require.NoError(t, err)
	assert.Empty(t, violations)

	all := map[string]bool{}
	for _, s := range seerstoretest.Services {
		all[s] = true
	}
	wantSpans := spanKeys(f.traces, f.start, f.end, all)
	require.NotEmpty(t, wantSpans)
	var back []string
	var frames int
	require.NoError(t, ds.Spans(func(td ptrace.Traces) error {
		frames++
		back = append(back, spanKeys(td, f.start, f.end, all)...)
		return nil
	}))
	sort.Strings(back)
	assert.Equal(t, wantSpans, back)
	assert.Equal(t, int64(len(wantSpans)), m.Counts.Spans)
	assert.Greater(t, frames, 1)
}

func TestRoundTripLocal(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), seerstoretest.Sealer(t))
	require.NoError(t, err)
	defer st.Close()
	roundTrip(t, st, 0, 6000)
}

// A read window that does not divide the range, and ticks straddling window ends.
func TestRoundTripLocalOddChunk(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), seerstoretest.Sealer(t))
	require.NoError(t, err)
	defer st.Close()
	roundTrip(t, st, 7*time.Second+30*time.Millisecond, 6000)
}

func localStore(t *testing.T) (*pebblestore.Store, fixture) {
	st, err := pebblestore.Open(t.TempDir(), seerstoretest.Sealer(t))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	f := newFixture(100)
	f.write(t, st)
	return st, f
}

func TestServicesFilter(t *testing.T) {
	st, f := localStore(t)
	dir := t.TempDir()
	_, err := Export(context.Background(), st, dir, Options{Start: f.start, End: f.end, Services: []string{"text"}, Tick: tick})
	require.NoError(t, err)
	ds, got := readAll(t, dir)
	keys, want := f.want("text")
	assert.Equal(t, keys, ds.Manifest.Series)
	same(t, want, got)
	assert.Empty(t, ds.Manifest.Edges) // no edge has both ends in {text}
	assert.Empty(t, ds.Manifest.Files.Spans)
}

func TestErrors(t *testing.T) {
	st, f := localStore(t)
	ctx := context.Background()
	exp := func(o Options) (string, error) {
		dir := t.TempDir()
		_, err := Export(ctx, st, dir, o)
		return dir, err
	}

	_, err := exp(Options{Start: f.end, End: f.start})
	assert.ErrorContains(t, err, "not after start")

	_, err = exp(Options{Start: f.start, End: f.end, Tick: time.Second})
	assert.ErrorContains(t, err, "not on the tick grid of 1s")

	_, err = exp(Options{Start: f.start, End: f.end, Tick: 50 * time.Millisecond})
	assert.ErrorContains(t, err, "stored series tick is 100ms, not the 50ms of --tick")

	// One stored tick: the tick cannot be read; with --tick it can be exported.
	_, err = exp(Options{Start: f.start, End: f.start.Add(tick)})
	assert.ErrorContains(t, err, "give --tick")
	dir, err := exp(Options{Start: f.start, End: f.start.Add(tick), Tick: tick})
	require.NoError(t, err)
	_, recs := readAll(t, dir)
	assert.Len(t, recs, 2)

	// An empty range fails unless allowed.
	later := f.end.Add(time.Hour)
	dir, err = exp(Options{Start: later, End: later.Add(time.Minute)})
	assert.True(t, errors.Is(err, ErrEmpty), "%v", err)
	_, statErr := os.Stat(filepath.Join(dir, dataset.ManifestFile))
	assert.True(t, os.IsNotExist(statErr))
	dir, err = exp(Options{Start: later, End: later.Add(time.Minute), AllowEmpty: true})
	require.NoError(t, err)
	ds, recs := readAll(t, dir)
	assert.Empty(t, recs)
	assert.Equal(t, int64(tick), ds.Manifest.TickNs)

	_, err = exp(Options{Start: f.start, End: f.end, Services: []string{"text", "nosuch"}})
	assert.ErrorContains(t, err, `service "nosuch" has no stored series`)

	// A directory that holds a dataset is refused.
	dir, err = exp(Options{Start: f.start, End: f.end})
	require.NoError(t, err)
	_, err = Export(ctx, st, dir, Options{Start: f.start, End: f.end})
	assert.ErrorContains(t, err, "already holds a dataset")
}

// Points of metrics another pipeline writes at any time are skipped off the grid; unknown
// metrics are skipped; a grid-only metric off the grid is an error.
func TestOffGridPoints(t *testing.T) {
	st, f := localStore(t)
	ctx := context.Background()
	off := f.start.Add(10*time.Second + 37*time.Millisecond).UnixNano()
	require.NoError(t, st.WriteSeries(ctx, []seerstore.SeriesPoint{
		{Service: "text", Instance: "text-0", Metric: seerstore.MetricReportedDepth, TsNs: off, Value: 3},
		{Service: "text", Instance: "text-0", Metric: "seer.queue.other", TsNs: off, Value: 3},
	}))
	dir := t.TempDir()
	res, err := Export(ctx, st, dir, Options{Start: f.start, End: f.end})
	require.NoError(t, err)
	assert.Equal(t, int64(2), res.Skipped)
	_, got := readAll(t, dir)
	_, want := f.want("frontend", "text")
	same(t, want, got)

	require.NoError(t, st.WriteSeries(ctx, []seerstore.SeriesPoint{
		{Service: "text", Instance: "text-0", Metric: seerstore.MetricArrivals, TsNs: off, Value: 3}}))
	_, err = Export(ctx, st, t.TempDir(), Options{Start: f.start, End: f.end})
	assert.ErrorContains(t, err, "not on the tick grid")
}

func TestCassandraRoundTrip(t *testing.T) {
	n := cassandratest.Get(t)
	ks := fmt.Sprintf("seer_export_%d", time.Now().UnixNano()%1e9)
	st := openCassandra(t, n, ks)
	roundTrip(t, st, 0, 1500)
}

// TestExportSpeed measures one hour of one service (one instance, 100 ms ticks) from the
// embedded store and from Cassandra. It is a measurement, not a check: run it with
// SEER_EXPORT_SPEED=1 go test -run TestExportSpeed -v.
func TestExportSpeed(t *testing.T) {
	if testing.Short() || os.Getenv("SEER_EXPORT_SPEED") == "" {
		t.Skip("set SEER_EXPORT_SPEED=1 to measure")
	}
	k := series.Key{Service: "frontend", Instance: "frontend-0"}
	var pts []seerstore.SeriesPoint
	for i := 0; i < 36000; i++ {
		pts = append(pts, seerstore.FromSeriesBatch(series.Batch{Start: base.Add(time.Duration(i) * tick), Samples: []series.Sample{sampleAt(k, i, 2)}})...)
	}
	measure := func(t *testing.T, st store) {
		t0 := time.Now()
		require.NoError(t, st.WriteSeries(context.Background(), pts))
		t.Logf("wrote %d points in %s", len(pts), time.Since(t0))
		t0 = time.Now()
		res, err := Export(context.Background(), st, t.TempDir(), Options{Start: base, End: base.Add(time.Hour), Services: []string{"frontend"}})
		require.NoError(t, err)
		d := time.Since(t0)
		require.Equal(t, int64(36000), res.Manifest.Counts.SeriesRecords)
		t.Logf("one hour of one service: %d points, %d records in %s (%.0f points/s)", res.Points, res.Manifest.Counts.SeriesRecords, d, float64(res.Points)/d.Seconds())
	}
	t.Run("local", func(t *testing.T) {
		st, err := pebblestore.Open(t.TempDir(), seerstoretest.Sealer(t))
		require.NoError(t, err)
		defer st.Close()
		measure(t, st)
	})
	t.Run("cassandra", func(t *testing.T) {
		measure(t, openCassandra(t, cassandratest.Get(t), fmt.Sprintf("seer_export_speed_%d", time.Now().UnixNano()%1e9)))
	})
}

// TestGraphInForceAtStart: a range in which the graph did not change takes
// the snapshot in force at its start (written before it), not no edges.
func TestGraphInForceAtStart(t *testing.T) {
	st, f := localStore(t)
	dir := t.TempDir()
	start := base.Add(101 * time.Second) // after version 3, before version 4
	_, err := Export(context.Background(), st, dir, Options{Start: start, End: f.end, Tick: tick})
	require.NoError(t, err)
	ds, _ := readAll(t, dir)
	assert.Equal(t, "3", ds.Manifest.Params["graph_version"])
	assert.NotEmpty(t, ds.Manifest.Edges)
}
