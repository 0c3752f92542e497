package nezha

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/sim"
	"github.com/seer-qos/seer/sim/export"
)

// Config says what to replay and where to.
type Config struct {
	// Context stops the replay (nil: never).
	Context context.Context
	// Dir is the data root (day directories) or one day.
	Dir string
	// From and To bound the replay to the trace files named for minutes in
	// [From, To) and the faults injected in it (zero: unbounded).
	From, To time.Time
	// Tick is the series period (the queuedepth processor's default 100 ms
	// when zero).
	Tick time.Duration
	// FaultDuration is the duration written for every fault (the lists
	// give injection times only); 60 s when zero.
	FaultDuration time.Duration
	// PartialFaults also writes the faults with only some spans in their
	// coverage window to the dataset; by default it holds those with spans
	// in every bucket (the README's definition of a fault with traces).
	PartialFaults bool

	// Out is the dataset directory to write ("" for none); Spans also
	// writes spans.otlp into it; Generator goes into the manifest.
	Out       string
	Spans     bool
	Generator string

	// Send, if set, receives the spans as OTLP batches (e.g.
	// export.NewOTLPHTTP(url).Send), paced by Speed: event seconds per wall
	// second, 0 as fast as possible. Gaps between the recorded minutes are
	// not waited for.
	Send  func(ptrace.Traces) error
	Speed float64

	// OnTick, if set, sees every final tick of the series (for tests and
	// live views); it must not keep b.Samples.
	OnTick func(b series.Batch)

	// MaxProblems bounds the problem messages kept (100 when zero).
	MaxProblems int
}

// FaultResult is one fault of the lists with how the traces cover it.
type FaultResult struct {
	Fault
	Coverage
}

// Result is what a replay read and produced.
type Result struct {
	Days  []string
	Stats Stats
	// Series is what the series engine did with the SERVER spans.
	Series series.Stats
	// Graph is the dependency graph's counters; Edges its caller -> callee
	// edges.
	Graph depgraph.Stats
	Edges []depgraph.EdgeInfo
	// Services with their instances (pods), by name.
	Services []dataset.Service
	// Faults are every valid fault of the lists in range, in injection
	// order, with their coverage.
	Faults []FaultResult
	// Problems describes input problems (the first MaxProblems);
	// ProblemsOmitted counts the rest.
	Problems        []string
	ProblemsOmitted int
	// StartNs and EndNs bound the replayed spans (event time).
	StartNs, EndNs int64
	// Wall is the time the replay took.
	Wall time.Duration
}

// engineConfig is the queuedepth processor's default configuration, so
// that replayed series are what the live processor computes.
func engineConfig(tick time.Duration) series.EngineConfig {
	return series.EngineConfig{Tick: tick, AllowedLateness: 2 * time.Second, Expiry: 5 * time.Minute, MaxServices: 1_000, MaxInstances: 20_000}
}

// graphConfig is the processor's graph configuration, but services never
// expire: a replay skips the minutes between recordings, and the graph of
// the whole replay is wanted.
func graphConfig() depgraph.Config {
	c := depgraph.DefaultConfig()
	c.Expiry = 100 * 365 * 24 * time.Hour
	return c
}

// Replay reads the Nezha data of cfg.Dir and sends it where cfg says.
func Replay(cfg Config) (*Result, error) {
	started := time.Now()
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	if cfg.Tick == 0 {
		cfg.Tick = 100 * time.Millisecond
	}
	if cfg.FaultDuration == 0 {
		cfg.FaultDuration = time.Minute
	}
	if cfg.MaxProblems == 0 {
		cfg.MaxProblems = 100
	}
	if cfg.Speed < 0 || cfg.FaultDuration < 0 {
		return nil, fmt.Errorf("replay: speed (%v) and fault duration (%v) must not be negative", cfg.Speed, cfg.FaultDuration)
	}
	days, err := Discover(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if cfg.Out != "" {
		// Fail before reading anything; dataset.Create checks again.
		if _, err := os.Stat(filepath.Join(cfg.Out, dataset.ManifestFile)); err == nil {
			return nil, fmt.Errorf("replay: %s already holds a dataset", cfg.Out)
		}
	}
	r := &replayer{cfg: cfg, res: &Result{}, log: problemLog{max: cfg.MaxProblems}, intern: map[string]string{},
		known: map[string]bool{}, pods: map[string]map[string]bool{}, starts: startHistogram{}}
	if r.engine, err = series.NewEngine(engineConfig(cfg.Tick), r.onTick); err != nil {
		return nil, err
	}
	if r.graph, err = depgraph.New(graphConfig(), depgraph.NewFeed("replay")); err != nil {
		return nil, err
	}
	var faults []FaultResult
	for _, d := range days {
		r.res.Days = append(r.res.Days, d.Name)
		for _, p := range d.Ignored {
			r.res.Stats.IgnoredFiles++
			r.log.add("%s: not a trace file (want HH_MM_trace.csv[.gz]), ignored", p)
		}
		faults = append(faults, r.readFaults(d)...)
	}
	runErr := r.run(days)
	r.finish(days, faults)
	r.res.Wall = time.Since(started)
	if runErr != nil {
		// The dataset stays without a manifest: incomplete.
		return r.res, runErr
	}
	var endNs int64
	if r.started {
		endNs = r.engine.Watermark().UnixNano()
	}
	if err := r.closeOutputs(endNs); err != nil {
		return r.res, err
	}
	r.res.Wall = time.Since(started)
	return r.res, nil
}

// replayer holds the state of one Replay.
type replayer struct {
	cfg    Config
	res    *Result
	log    problemLog
	intern map[string]string
	known  map[string]bool
	pods   map[string]map[string]bool
	starts startHistogram

	engine *series.Engine
	graph  *depgraph.Graph
	gbuf   []depgraph.Span

	ds      *dataset.Writer
	batch   batcher
	spanw   *dataset.SpanWriter
	pending []ptrace.Traces
	pace    pacedSink
	simSpan sim.Span
	emitErr error
	started bool
}

func (r *replayer) readFaults(d Day) []FaultResult {
	path := filepath.Join(d.Dir, FaultListFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		r.log.add("%s: no fault list: no ground truth for day %s", path, d.Name)
		return nil
	}
	if err != nil {
		r.res.Stats.BadFaults++
		r.log.add("%s: %v", path, err)
		return nil
	}
	r.res.Stats.FaultLists++
	fs, bad, err := DecodeFaultList(b, d.Name)
	if err != nil {
		r.res.Stats.BadFaults++
		r.log.add("%s: %v", path, err)
		return nil
	}
	for _, e := range bad {
		r.res.Stats.BadFaults++
		r.log.add("%s: %v", path, e)
	}
	var out []FaultResult
	for _, f := range fs {
		if (!r.cfg.From.IsZero() && f.At.Before(r.cfg.From)) || (!r.cfg.To.IsZero() && !f.At.Before(r.cfg.To)) {
			continue
		}
		if f.TimeSkew != 0 {
			r.res.Stats.FaultWarnings++
			r.log.add("%s: fault %s of %s: inject_time is %v after inject_timestamp; using inject_timestamp",
				path, f.At.Format(time.RFC3339), f.Pod, f.TimeSkew)
		}
		out = append(out, FaultResult{Fault: f})
	}
	return out
}

func (r *replayer) run(days []Day) error {
	r.batch.deliver = r.deliver
	r.pace.out = &r.batch
	for _, d := range days {
		for _, seg := range d.Segments(r.cfg.From, r.cfg.To) {
			if err := r.cfg.Context.Err(); err != nil {
				return err
			}
			if err := r.segment(seg); err != nil {
				return err
			}
		}
	}
	r.engine.Flush()
	r.graph.Flush()
	return r.emitErr
}

// segment replays one run of consecutive minutes in end-time order.
func (r *replayer) segment(seg Segment) error {
	st := &r.res.Stats
	spans := loadSegment(seg, r.intern, st, &r.log)
	if len(spans) == 0 {
		return nil
	}
	orphans := Classify(spans, r.known)
	st.UnknownParents += int64(orphans)
	if orphans > 0 {
		r.log.add("segment %s %s (%d files): %d spans with a parent ID not in the data, replayed as SERVER spans",
			seg.Day, seg.Files[0].Minute.Format("15:04"), len(seg.Files), orphans)
	}
	sortByEnd(spans)
	var pacer *export.Pacer
	if r.cfg.Send != nil && r.cfg.Speed > 0 {
		pacer = export.NewPacer(r.cfg.Context, &r.pace, r.cfg.Speed, spans[0].End)
	}
	for i := range spans {
		sp := &spans[i]
		r.observe(sp)
		var err error
		if pacer != nil {
			r.pace.cur = sp
			r.simSpan.End = sp.End
			err = pacer.Span(&r.simSpan)
		} else {
			err = r.batch.add(sp)
		}
		if err != nil {
			return err
		}
	}
	// The batch holds pointers into spans: deliver it before they go.
	return r.batch.flush()
}

// deliver hands one batch to every consumer, in the batch's order: the
// series engine and the graph (as the processor reads a batch), spans.otlp
// and the endpoint.
func (r *replayer) deliver(batch []*Span) error {
	if err := r.cfg.Context.Err(); err != nil {
		return err
	}
	r.gbuf = r.gbuf[:0]
	for _, sp := range batch {
		r.engineAdd(sp)
		r.gbuf = append(r.gbuf, depgraph.Span{TraceID: sp.TraceID, SpanID: sp.SpanID, ParentID: sp.ParentID,
			Service: sp.Service, Operation: sp.Operation, PeerService: sp.Peer, Kind: sp.Kind.graph(), Start: sp.Start, End: sp.End})
	}
	r.graph.Add(r.gbuf)
	if r.emitErr != nil {
		return r.emitErr
	}
	if r.cfg.Out != "" && r.cfg.Spans {
		if err := r.writeSpans(toTraces(batch)); err != nil {
			return err
		}
	}
	if r.cfg.Send != nil {
		if err := r.cfg.Send(toTraces(batch)); err != nil {
			return fmt.Errorf("send spans: %w", err)
		}
	}
	return nil
}

// pacedSink lets export.Pacer pace replayed spans: the Pacer sees a
// sim.Span with the end time only, and the span itself goes on from cur.
type pacedSink struct {
	cur *Span
	out *batcher
}

func (p *pacedSink) Span(*sim.Span) error { return p.out.add(p.cur) }

func (r *replayer) observe(sp *Span) {
	st := &r.res.Stats
	st.Spans++
	switch sp.Kind {
	case KindServer:
		st.Server++
	case KindClient:
		st.Client++
	default:
		st.Internal++
	}
	if !r.started || sp.Start < r.res.StartNs {
		r.res.StartNs = sp.Start
	}
	if !r.started || sp.End > r.res.EndNs {
		r.res.EndNs = sp.End
	}
	r.started = true
	r.starts.add(sp.Start)
	p := r.pods[sp.Service]
	if p == nil {
		p = map[string]bool{}
		r.pods[sp.Service] = p
	}
	p[sp.Pod] = true
}

// engineAdd gives a SERVER or CLIENT span to the series engine, as the
// queuedepth processor does (service.name and service.instance.id, weight 1,
// no queue readings; the traces have no status, so no call failed).
func (r *replayer) engineAdd(sp *Span) {
	if sp.Kind != KindServer && sp.Kind != KindClient {
		return
	}
	s := series.Span{Key: series.Key{Service: sp.Service, Instance: sp.Pod}, TraceID: sp.TraceID, SpanID: sp.SpanID,
		ParentID: sp.ParentID, Client: sp.Kind == KindClient, Start: sp.Start, End: sp.End, Weight: 1, Reported: nan, NIC: nan}
	r.engine.Add(&s)
}

// onTick writes a final tick to the dataset, series in key order.
func (r *replayer) onTick(b series.Batch) {
	if r.cfg.OnTick != nil {
		r.cfg.OnTick(b)
	}
	if r.cfg.Out == "" || r.emitErr != nil {
		return
	}
	if r.ds == nil {
		if r.emitErr = r.createDataset(b.Start.UnixNano()); r.emitErr != nil {
			return
		}
	}
	slices.SortFunc(b.Samples, func(x, y series.Sample) int {
		return cmp.Or(cmp.Compare(x.Service, y.Service), cmp.Compare(x.Instance, y.Instance))
	})
	r.emitErr = r.ds.WriteTick(b.Start.UnixNano(), b.Samples)
}

func (r *replayer) createDataset(startNs int64) error {
	root := filepath.Clean(r.cfg.Dir)
	if isDay(root) {
		root = filepath.Dir(root)
	}
	m := dataset.Manifest{Source: dataset.SourceReplay, Generator: r.cfg.Generator, Topology: filepath.Base(root),
		TickNs: int64(r.cfg.Tick), StartNs: startNs}
	w, err := dataset.Create(r.cfg.Out, m)
	if err != nil {
		return err
	}
	r.ds = w
	if r.cfg.Spans {
		if r.spanw, err = w.Spans(); err != nil {
			return err
		}
		for _, td := range r.pending {
			if err := r.spanw.Write(td); err != nil {
				return err
			}
		}
		r.pending = nil
	}
	return nil
}

// writeSpans writes a batch to spans.otlp, or keeps it until the dataset
// exists (it is created at the first final tick, whose start it needs).
func (r *replayer) writeSpans(td ptrace.Traces) error {
	if r.spanw == nil {
		r.pending = append(r.pending, td)
		return nil
	}
	return r.spanw.Write(td)
}

// finish computes services, edges and the coverage of every fault.
func (r *replayer) finish(days []Day, faults []FaultResult) {
	res := r.res
	res.Series = r.engine.Stats()
	res.Graph = r.graph.Stats()
	res.Edges = r.graph.Snapshot().Edges
	sort.Slice(res.Edges, func(i, j int) bool {
		if res.Edges[i].From != res.Edges[j].From {
			return res.Edges[i].From < res.Edges[j].From
		}
		return res.Edges[i].To < res.Edges[j].To
	})
	for name, pods := range r.pods {
		s := dataset.Service{Name: name}
		for p := range pods {
			s.Instances = append(s.Instances, p)
		}
		sort.Strings(s.Instances)
		res.Services = append(res.Services, s)
	}
	sort.Slice(res.Services, func(i, j int) bool { return res.Services[i].Name < res.Services[j].Name })
	byName := map[string]Day{}
	for _, d := range days {
		byName[d.Name] = d
	}
	for i := range faults {
		f := &faults[i]
		f.Buckets, f.Spans = r.starts.coverage(f.At)
		m := f.At.Truncate(time.Minute)
		d := byName[f.Day]
		f.ByFiles = d.HasMinute(m) && d.HasMinute(m.Add(time.Minute))
	}
	res.Faults = faults
	res.Problems, res.ProblemsOmitted = r.log.list, r.log.omitted
}

// closeOutputs writes the labels and closes the dataset.
func (r *replayer) closeOutputs(endNs int64) error {
	if r.cfg.Out == "" {
		return nil
	}
	if r.ds == nil {
		// No span at all: still an (empty) dataset with the ground truth.
		if err := r.createDataset(0); err != nil {
			return err
		}
	}
	faults := datasetFaults(r.res.Faults, r.cfg.FaultDuration, r.cfg.PartialFaults)
	r.ds.SetServices(r.res.Services)
	r.ds.SetEdges(manifestEdges(r.res))
	r.ds.SetParams(manifestParams(r.res, r.cfg, len(faults)))
	r.ds.SetFaults(faults)
	return r.ds.Close(endNs)
}
