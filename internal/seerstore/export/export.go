// Package export writes what a Seer store holds over a time range (the queue-depth series, the
// dependency graph and optionally the spans) as a dataset in the one format of package dataset
// (dataset/FORMAT.md), so that training can use stored history. It reads through the
// seerstore.Reader interface only: the Cassandra store and the embedded one export the same way.
// `seer dataset export` is its command line.
//
// What the stores keep is less than a dataset record: the series table holds one point per
// measured Sample field (seerstore.FromSeriesBatch). The export rebuilds each Sample from those
// points: a field without a point is NaN (it was not measured), the latency count is the
// completions, the latency sum is the stored mean times the completions, the latency minimum is
// not stored and is written as 0, and the sources bits are derived from which depths are present.
// Stored history has no ground truth: faults.json and violations.json are empty, and the manifest
// says so in its params.
package export

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/series"
)

// DefaultChunk is the time window read from the store at once: it bounds the memory the export
// holds (one window of samples).
const DefaultChunk = time.Minute

// SpanBatch is the number of spans in one spans.otlp frame.
const SpanBatch = 4096

// ErrEmpty is returned (wrapped) when the range holds no series.
var ErrEmpty = errors.New("no stored series in the range")

// Options select what is exported.
type Options struct {
	// Start and End bound the export: [Start, End), event time.
	Start, End time.Time
	// Services limits the export to these services; empty means every service the store knows in
	// the range (services with spans, and the services of the latest graph snapshot).
	Services []string
	// Tick is the series period. Zero means: read it from the stored series (the most common step
	// between stored ticks). When set, it must equal the stored tick.
	Tick time.Duration
	// Spans also writes spans.otlp (rebuilt from the stored training fields).
	Spans bool
	// AllowEmpty writes a dataset without series records instead of failing with ErrEmpty.
	AllowEmpty bool
	// Store describes the store in the manifest's params, e.g. "cassandra" or "local".
	Store string
	// StoreLocation is where the store is (hosts and keyspace, or a directory); no secrets.
	StoreLocation string
	// Generator is the manifest's generator, e.g. "seer dataset export 0.1.0".
	Generator string
	// Chunk is the read window; DefaultChunk when zero.
	Chunk time.Duration
}

// Result summarises an export.
type Result struct {
	Manifest *dataset.Manifest
	// Points is the number of stored series points read; Skipped those not used (unknown metric
	// names, or points of a metric another pipeline may write off the tick grid).
	Points, Skipped int64
	// Tick is the series period written.
	Tick time.Duration
}

// metric field indexes of a sample under construction.
const (
	fDepth = iota
	fMean
	fInstant
	fReported
	fNIC
	fBacklog
	fArrivals
	fCompletions
	fLatMean
	fLatMax
	fNetCalls
	fNetMean
	fNetMax
	fFailed
	nFields
)

var metricField = map[string]int{
	seerstore.MetricDepth:         fDepth,
	seerstore.MetricMeanDepth:     fMean,
	seerstore.MetricInstantDepth:  fInstant,
	seerstore.MetricReportedDepth: fReported,
	seerstore.MetricNICDepth:      fNIC,
	seerstore.MetricListenBacklog: fBacklog,
	seerstore.MetricArrivals:      fArrivals,
	seerstore.MetricCompletions:   fCompletions,
	seerstore.MetricLatencyMean:   fLatMean,
	seerstore.MetricLatencyMax:    fLatMax,
	seerstore.MetricNetworkCalls:  fNetCalls,
	seerstore.MetricNetworkMean:   fNetMean,
	seerstore.MetricNetworkMax:    fNetMax,
	seerstore.MetricCallsFailed:   fFailed,
}

// gridOnly reports whether a metric is written by the series source alone, on the tick grid. The
// others (reported and NIC depth, listen backlog) may also come from a metrics pipeline at any
// time; such points off the grid are skipped rather than refused.
func gridOnly(f int) bool { return f != fReported && f != fNIC && f != fBacklog }

type acc [nFields]float64

func newAcc() *acc {
	var a acc
	for i := range a {
		a[i] = math.NaN()
	}
	return &a
}

func (a *acc) sample(k series.Key) series.Sample {
	s := series.Sample{Key: k, Depth: a[fDepth], MeanDepth: a[fMean], InstantDepth: a[fInstant],
		ReportedDepth: a[fReported], NICDepth: a[fNIC], ListenBacklog: a[fBacklog],
		Arrivals: a[fArrivals], Completions: a[fCompletions]}
	if series.Has(a[fLatMean]) && series.Has(a[fCompletions]) && a[fCompletions] > 0 {
		s.Latency.Count = a[fCompletions]
		s.Latency.Sum = time.Duration(a[fLatMean] * a[fCompletions])
		if series.Has(a[fLatMax]) {
			s.Latency.Max = time.Duration(a[fLatMax])
		}
	}
	if series.Has(a[fNetCalls]) && a[fNetCalls] > 0 && series.Has(a[fNetMean]) {
		s.Network.Count = a[fNetCalls]
		s.Network.Sum = time.Duration(a[fNetMean] * a[fNetCalls])
		if series.Has(a[fNetMax]) {
			s.Network.Max = time.Duration(a[fNetMax])
		}
	}
	if series.Has(a[fFailed]) {
		s.Failed = a[fFailed] // absent: none failed
	}
	if series.Has(s.MeanDepth) || series.Has(s.InstantDepth) {
		s.Sources |= series.SourceSpans
	}
	if series.Has(s.ReportedDepth) {
		s.Sources |= series.SourceReported
	}
	if series.Has(s.NICDepth) || series.Has(s.ListenBacklog) {
		s.Sources |= series.SourceNIC
	}
	return s
}

type exporter struct {
	ctx context.Context
	r   seerstore.Reader
	dir string
	o   Options
	m   dataset.Manifest
	w   *dataset.Writer
	res Result

	tick     int64 // 0 until known
	anchor   int64 // first stored tick of a grid-only metric
	anchored bool
	stamps   map[int64]struct{} // distinct ticks seen before the tick was known
	pending  map[int64]map[series.Key]*acc
	inst     map[string]map[string]struct{}
}

// Export writes the dataset of r over o's range into dir (created if missing; Create refuses a
// directory that already holds a dataset). On error the directory may hold an incomplete dataset
// (no manifest.json).
func Export(ctx context.Context, r seerstore.Reader, dir string, o Options) (*Result, error) {
	if !o.End.After(o.Start) {
		return nil, fmt.Errorf("export: end %s is not after start %s", o.End.Format(time.RFC3339Nano), o.Start.Format(time.RFC3339Nano))
	}
	if o.Tick < 0 {
		return nil, fmt.Errorf("export: tick %s is negative", o.Tick)
	}
	if o.Chunk <= 0 {
		o.Chunk = DefaultChunk
	}
	e := &exporter{ctx: ctx, r: r, dir: dir, o: o, stamps: map[int64]struct{}{}, pending: map[int64]map[series.Key]*acc{}, inst: map[string]map[string]struct{}{}}
	graph, err := e.latestGraph()
	if err != nil {
		return nil, err
	}
	services, err := e.services(graph)
	if err != nil {
		return nil, err
	}
	e.m = dataset.Manifest{
		Source: dataset.SourceExport, Generator: o.Generator,
		StartNs: o.Start.UnixNano(),
		Params: map[string]string{
			"store":        o.Store,
			"ground_truth": "none: stored history has no injected faults or QoS labels; faults.json and violations.json are empty",
			"latency":      "latency_count = completions, latency_sum_ns = stored mean x completions, latency_min_ns not stored (0)",
			"network":      "network_count = stored calls, network_sum_ns = stored mean x calls, network_min_ns not stored (0)",
		},
	}
	if o.StoreLocation != "" {
		e.m.Params["store_location"] = o.StoreLocation
	}
	if len(o.Services) > 0 {
		e.m.Params["services"] = strings.Join(o.Services, ",")
	}
	e.m.Edges = edges(graph, services)
	if graph != nil {
		e.m.Params["graph_ts_ns"] = strconv.FormatInt(graph.TsNs, 10)
		e.m.Params["graph_version"] = strconv.FormatInt(graph.Version, 10)
	} else {
		e.m.Params["graph"] = fmt.Sprintf("no graph snapshot in the range or in the %v before it: no edges", graphLookback)
	}
	if o.Tick > 0 {
		e.tick = int64(o.Tick)
	}

	if err := e.series(services); err != nil {
		return nil, err
	}
	if e.w == nil { // no series at all
		if !o.AllowEmpty && len(services) == 0 {
			return nil, fmt.Errorf("export: %w [%s, %s): the store lists no service in it (it lists services that had spans; name series-only services with --services)", ErrEmpty,
				o.Start.UTC().Format(time.RFC3339Nano), o.End.UTC().Format(time.RFC3339Nano))
		}
		if !o.AllowEmpty {
			return nil, fmt.Errorf("export: %w [%s, %s) of services %v (give --allow-empty to write an empty dataset)", ErrEmpty,
				o.Start.UTC().Format(time.RFC3339Nano), o.End.UTC().Format(time.RFC3339Nano), services)
		}
		if e.tick == 0 {
			e.tick = int64(100 * time.Millisecond) // the queuedepth processor's default
		}
		if err := e.create(); err != nil {
			return nil, err
		}
	}
	if len(o.Services) > 0 && !o.AllowEmpty {
		for _, s := range o.Services {
			if _, ok := e.inst[s]; !ok {
				return nil, fmt.Errorf("export: service %q has no stored series in the range", s)
			}
		}
	}
	e.w.SetServices(e.serviceTable())
	if o.Spans {
		if err := e.spans(services); err != nil {
			return nil, err
		}
	}
	if err := e.w.Close(o.End.UnixNano()); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	m, err := dataset.ReadManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("export: reading back the manifest: %w", err)
	}
	e.res.Manifest = m
	e.res.Tick = time.Duration(e.tick)
	return &e.res, nil
}

// graphLookback is how far before the range a graph snapshot is looked for
// when the range holds none: snapshots are written when the graph changes,
// so a stable graph's last one is older than the range.
const graphLookback = 30 * 24 * time.Hour

// latestGraph returns the latest graph snapshot of the range or, when it
// holds none, the one in force at its start (the latest before it, within
// graphLookback): one read, as any snapshot in the range is later than any
// before it. Nil when there is none.
func (e *exporter) latestGraph() (*seerstore.GraphSnapshot, error) {
	var last *seerstore.GraphSnapshot
	err := e.r.Graphs(e.ctx, e.o.Start.Add(-graphLookback), e.o.End, func(g *seerstore.GraphSnapshot) error {
		if last == nil || g.TsNs > last.TsNs || (g.TsNs == last.TsNs && g.Version >= last.Version) {
			c := *g
			c.Edges = slices.Clone(g.Edges)
			last = &c
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export: reading graph snapshots: %w", err)
	}
	return last, nil
}

func (e *exporter) services(g *seerstore.GraphSnapshot) ([]string, error) {
	if len(e.o.Services) > 0 {
		s := slices.Clone(e.o.Services)
		sort.Strings(s)
		return slices.Compact(s), nil
	}
	s, err := e.r.Services(e.ctx, e.o.Start, e.o.End)
	if err != nil {
		return nil, fmt.Errorf("export: listing services: %w", err)
	}
	if g != nil {
		for _, ed := range g.Edges {
			s = append(s, ed.Caller, ed.Callee)
		}
	}
	sort.Strings(s)
	return slices.Compact(s), nil
}

// edges returns the snapshot's edges between exported services, one per (caller, callee,
// operation), sorted.
func edges(g *seerstore.GraphSnapshot, services []string) []dataset.Edge {
	if g == nil {
		return nil
	}
	in := map[string]bool{}
	for _, s := range services {
		in[s] = true
	}
	seen := map[dataset.Edge]bool{}
	var out []dataset.Edge
	for _, ed := range g.Edges {
		d := dataset.Edge{Caller: ed.Caller, Callee: ed.Callee, Operation: ed.Operation}
		if !in[d.Caller] || !in[d.Callee] || seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Caller != b.Caller {
			return a.Caller < b.Caller
		}
		if a.Callee != b.Callee {
			return a.Callee < b.Callee
		}
		return a.Operation < b.Operation
	})
	return out
}

func (e *exporter) series(services []string) error {
	for from := e.o.Start; from.Before(e.o.End); from = from.Add(e.o.Chunk) {
		to := from.Add(e.o.Chunk)
		if to.After(e.o.End) {
			to = e.o.End
		}
		for _, svc := range services {
			err := e.r.Series(e.ctx, svc, from, to, func(p *seerstore.SeriesPoint) error { return e.point(p) })
			if err != nil {
				return fmt.Errorf("export: reading series of %s in [%s, %s): %w", svc, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), err)
			}
		}
		if err := e.flush(false); err != nil {
			return err
		}
	}
	return e.flush(true)
}

func (e *exporter) point(p *seerstore.SeriesPoint) error {
	e.res.Points++
	f, ok := metricField[p.Metric]
	if !ok {
		e.res.Skipped++
		return nil
	}
	if p.TsNs < e.o.Start.UnixNano() || p.TsNs >= e.o.End.UnixNano() {
		return fmt.Errorf("store returned a point of %s at %d outside the range", p.Service, p.TsNs)
	}
	if gridOnly(f) {
		if !e.anchored {
			e.anchor, e.anchored = p.TsNs, true
		}
		if e.w == nil {
			e.stamps[p.TsNs] = struct{}{}
		}
	}
	if e.tick > 0 && e.anchored && (p.TsNs-e.anchor)%e.tick != 0 {
		if gridOnly(f) {
			return fmt.Errorf("series point %s of %s/%s at %s is not on the tick grid of %s (first tick at %s): the stored tick differs; give the stored tick with --tick or leave --tick out",
				p.Metric, p.Service, p.Instance, time.Unix(0, p.TsNs).UTC().Format(time.RFC3339Nano), time.Duration(e.tick), time.Unix(0, e.anchor).UTC().Format(time.RFC3339Nano))
		}
		e.res.Skipped++
		return nil
	}
	e.add(p, f)
	return nil
}

func (e *exporter) add(p *seerstore.SeriesPoint, f int) {
	k := series.Key{Service: p.Service, Instance: p.Instance}
	t := e.pending[p.TsNs]
	if t == nil {
		t = map[series.Key]*acc{}
		e.pending[p.TsNs] = t
	}
	a := t[k]
	if a == nil {
		a = newAcc()
		t[k] = a
	}
	a[f] = p.Value
	is := e.inst[p.Service]
	if is == nil {
		is = map[string]struct{}{}
		e.inst[p.Service] = is
	}
	is[p.Instance] = struct{}{}
}

// inferTick returns the most common step between consecutive distinct ticks seen (the smallest
// of equally common ones), 0 with fewer than two, and moves the anchor to the first tick seen.
func (e *exporter) inferTick() int64 {
	stamps := make([]int64, 0, len(e.stamps))
	for s := range e.stamps {
		stamps = append(stamps, s)
	}
	slices.Sort(stamps)
	if len(stamps) > 0 {
		e.anchor = stamps[0]
	}
	count := map[int64]int{}
	var best int64
	for i := 1; i < len(stamps); i++ {
		d := stamps[i] - stamps[i-1]
		count[d]++
		if c := count[d]; best == 0 || c > count[best] || (c == count[best] && d < best) {
			best = d
		}
	}
	return best
}

// flush writes the pending ticks once the tick is known (at the end, it must be).
func (e *exporter) flush(final bool) error {
	if len(e.pending) == 0 {
		return nil
	}
	if e.w == nil {
		inferred := e.inferTick()
		switch {
		case inferred == 0 && e.tick == 0 && !final:
			return nil // one stored tick so far: read on
		case inferred == 0 && e.tick == 0:
			return fmt.Errorf("export: the range holds one stored tick (%s): cannot read the tick from the store; give --tick",
				time.Unix(0, e.anchor).UTC().Format(time.RFC3339Nano))
		case e.tick != 0 && inferred != 0 && inferred != e.tick:
			return fmt.Errorf("export: the stored series tick is %s, not the %s of --tick", time.Duration(inferred), time.Duration(e.tick))
		case e.tick == 0:
			e.tick = inferred
		}
		// Points of the other metrics were taken before the grid was known: drop those off it.
		for ts, t := range e.pending {
			if (ts-e.anchor)%e.tick != 0 {
				for _, a := range t {
					for f := range a {
						if series.Has(a[f]) {
							if gridOnly(f) {
								return fmt.Errorf("export: series point at %s is not on the tick grid of %s", time.Unix(0, ts).UTC().Format(time.RFC3339Nano), time.Duration(e.tick))
							}
							e.res.Skipped++
						}
					}
				}
				delete(e.pending, ts)
			}
		}
		if err := e.create(); err != nil {
			return err
		}
	}
	stamps := make([]int64, 0, len(e.pending))
	for ts := range e.pending {
		stamps = append(stamps, ts)
	}
	slices.Sort(stamps)
	var samples []series.Sample
	for _, ts := range stamps {
		t := e.pending[ts]
		samples = samples[:0]
		for k, a := range t {
			samples = append(samples, a.sample(k))
		}
		sort.Slice(samples, func(i, j int) bool {
			if samples[i].Service != samples[j].Service {
				return samples[i].Service < samples[j].Service
			}
			return samples[i].Instance < samples[j].Instance
		})
		if err := e.w.WriteTick(ts, samples); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		delete(e.pending, ts)
	}
	return nil
}

func (e *exporter) create() error {
	e.m.TickNs = e.tick
	e.m.Params["tick"] = time.Duration(e.tick).String()
	w, err := dataset.Create(e.dir, e.m)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	e.w = w
	return nil
}

func (e *exporter) serviceTable() []dataset.Service {
	names := make([]string, 0, len(e.inst))
	for s := range e.inst {
		names = append(names, s)
	}
	sort.Strings(names)
	out := make([]dataset.Service, 0, len(names))
	for _, s := range names {
		is := make([]string, 0, len(e.inst[s]))
		for i := range e.inst[s] {
			is = append(is, i)
		}
		sort.Strings(is)
		out = append(out, dataset.Service{Name: s, Instances: is})
	}
	return out
}

// spans writes spans.otlp: per service, in start order, SpanBatch spans a frame, rebuilt from the
// stored training fields (seerstore.ToTraces).
func (e *exporter) spans(services []string) error {
	sw, err := e.w.Spans()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	batch := make([]seerstore.Span, 0, SpanBatch)
	write := func() error {
		if len(batch) == 0 {
			return nil
		}
		td, err := seerstore.ToTraces(batch)
		if err != nil {
			return err
		}
		batch = batch[:0]
		return sw.Write(td)
	}
	for _, svc := range services {
		err := e.r.ServiceSpans(e.ctx, svc, e.o.Start, e.o.End, func(s *seerstore.Span) error {
			batch = append(batch, *s)
			if len(batch) == SpanBatch {
				return write()
			}
			return nil
		})
		if err == nil {
			err = write()
		}
		if err != nil {
			return fmt.Errorf("export: spans of %s: %w", svc, err)
		}
	}
	return nil
}
