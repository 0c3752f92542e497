package nezha

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/series"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The minutes around the frontend "return" fault of 2022-08-22 04:02:07.
var aroundReturn = Config{From: utc("2022-08-22T04:02:00Z"), To: utc("2022-08-22T04:05:00Z")}

func replayDay(t *testing.T, d string, cfg Config) *Result {
	t.Helper()
	cfg.Dir = day(t, d)
	res, err := Replay(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestReplayAroundAFault(t *testing.T) {
	cfg := aroundReturn
	cfg.Out = t.TempDir()
	cfg.Spans = true
	res := replayDay(t, "2022-08-22", cfg)

	st := res.Stats
	if st.Files != 3 || st.Spans == 0 || st.Problems() != 0 {
		t.Fatalf("stats %+v, problems %v", st, res.Problems)
	}
	if st.Rows != st.Spans+st.Duplicates+st.MalformedRows+st.BadTimestamps {
		t.Errorf("rows %d != spans %d + duplicates %d + refused", st.Rows, st.Spans, st.Duplicates)
	}
	if st.Server+st.Client+st.Internal != st.Spans || st.Server == 0 || st.Client == 0 || st.Internal == 0 {
		t.Errorf("kinds %d + %d + %d != %d spans", st.Server, st.Client, st.Internal, st.Spans)
	}
	if res.Series.Accepted != uint64(st.Server) {
		t.Errorf("series engine accepted %d spans, want every server span (%d): %+v", res.Series.Accepted, st.Server, res.Series)
	}
	if len(res.Faults) != 1 {
		t.Fatalf("faults in range: %+v", res.Faults)
	}
	f := res.Faults[0]
	if f.Service != "frontend" || f.Type != TypeReturn || !f.Full() || !f.ByFiles {
		t.Errorf("fault %+v", f)
	}

	ds, err := dataset.Open(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	m := ds.Manifest
	if m.Source != dataset.SourceReplay || m.TickNs != int64(100*time.Millisecond) || m.Counts.Spans != st.Spans || m.Counts.SeriesRecords == 0 {
		t.Errorf("manifest %+v", m)
	}
	if len(m.Edges) != len(res.Edges) || len(m.Services) != len(res.Services) {
		t.Errorf("manifest has %d edges and %d services, the replay %d and %d", len(m.Edges), len(m.Services), len(res.Edges), len(res.Services))
	}
	faults, err := ds.Faults()
	if err != nil {
		t.Fatal(err)
	}
	if len(faults) != 1 || faults[0].Service != "frontend" || faults[0].Instance != "frontend-579b9bff58-t2dbm" ||
		faults[0].StartNs != f.At.UnixNano() || faults[0].ID != f.ID() || faults[0].SourceType != f.Type {
		t.Errorf("faults.json %+v", faults)
	}
}

// Every client span names a service that has spans, and every server span
// under a client span of the same trace belongs to the client's peer.
func TestReplayKindsAreConsistent(t *testing.T) {
	var mu sync.Mutex
	var tds []ptrace.Traces
	cfg := aroundReturn
	cfg.Send = func(td ptrace.Traces) error {
		mu.Lock()
		defer mu.Unlock()
		tds = append(tds, td)
		return nil
	}
	cfg.Speed = 0
	res := replayDay(t, "2022-08-22", cfg)
	type info struct {
		kind    ptrace.SpanKind
		service string
		peer    string
	}
	spans := map[[24]byte]info{}
	parents := map[[24]byte][24]byte{}
	key := func(tr [16]byte, sp [8]byte) (k [24]byte) { copy(k[:], tr[:]); copy(k[16:], sp[:]); return k }
	for _, td := range tds {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			svc, _ := rs.Resource().Attributes().Get("service.name")
			ss := rs.ScopeSpans().At(0).Spans()
			for j := 0; j < ss.Len(); j++ {
				s := ss.At(j)
				in := info{kind: s.Kind(), service: svc.Str()}
				if p, ok := s.Attributes().Get("peer.service"); ok {
					in.peer = p.Str()
				}
				k := key(s.TraceID(), s.SpanID())
				spans[k] = in
				if !s.ParentSpanID().IsEmpty() {
					parents[k] = key(s.TraceID(), s.ParentSpanID())
				}
			}
		}
	}
	if int64(len(spans)) != res.Stats.Spans {
		t.Fatalf("sent %d distinct spans, replayed %d", len(spans), res.Stats.Spans)
	}
	services := map[string]bool{}
	for _, s := range res.Services {
		services[s.Name] = true
	}
	for k, s := range spans {
		switch s.kind {
		case ptrace.SpanKindClient:
			if !services[s.peer] || s.peer == s.service {
				t.Fatalf("client span of %s calls %q", s.service, s.peer)
			}
		case ptrace.SpanKindServer:
			p, ok := parents[k]
			if !ok {
				if s.service != "frontend" {
					t.Fatalf("entry span in %s", s.service)
				}
				continue
			}
			if ps := spans[p]; ps.kind != ptrace.SpanKindClient || ps.peer != s.service {
				t.Fatalf("server span of %s under %+v", s.service, ps)
			}
		case ptrace.SpanKindInternal:
			if ps := spans[parents[k]]; ps.service != s.service {
				t.Fatalf("internal span of %s under a span of %s", s.service, ps.service)
			}
		default:
			t.Fatalf("kind %v", s.kind)
		}
	}
}

// tickLog records the final ticks, samples in key order.
type tickLog struct{ ticks []series.Batch }

func (l *tickLog) onTick(b series.Batch) {
	b.Samples = slices.Clone(b.Samples)
	slices.SortFunc(b.Samples, func(x, y series.Sample) int {
		if x.Service != y.Service {
			return compareStrings(x.Service, y.Service)
		}
		return compareStrings(x.Instance, y.Instance)
	})
	b.Expired = nil
	l.ticks = append(l.ticks, b)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Event time: the series and the spans sent are the same whatever the
// speed-up factor, and the speed does pace the sending.
func TestReplaySeriesDoNotDependOnSpeed(t *testing.T) {
	run := func(speed float64) (*tickLog, [][]byte, []byte, time.Duration, *Result) {
		cfg := aroundReturn
		cfg.Out = t.TempDir()
		cfg.Speed = speed
		var log tickLog
		cfg.OnTick = log.onTick
		var sent [][]byte
		var m ptrace.ProtoMarshaler
		cfg.Send = func(td ptrace.Traces) error {
			b, err := m.MarshalTraces(td)
			sent = append(sent, b)
			return err
		}
		start := time.Now()
		res := replayDay(t, "2022-08-22", cfg)
		wall := time.Since(start)
		bin, err := os.ReadFile(filepath.Join(cfg.Out, dataset.SeriesFile))
		if err != nil {
			t.Fatal(err)
		}
		return &log, sent, bin, wall, res
	}
	fastLog, fastSent, fastBin, _, res := run(0)
	const speed = 2000
	pacedLog, pacedSent, pacedBin, wall, _ := run(speed)

	if len(fastLog.ticks) == 0 || !slices.EqualFunc(fastLog.ticks, pacedLog.ticks, batchEqual) {
		t.Errorf("series differ: %d ticks as fast as possible, %d at speed %d", len(fastLog.ticks), len(pacedLog.ticks), speed)
	}
	if !bytes.Equal(fastBin, pacedBin) {
		t.Errorf("series.bin differs between speed 0 and %d", speed)
	}
	if !slices.EqualFunc(fastSent, pacedSent, bytes.Equal) {
		t.Errorf("sent batches differ: %d and %d", len(fastSent), len(pacedSent))
	}
	// The pacer holds every 64th span to the clock: the last full group
	// of 64 ends close to the end of the segment.
	minWall := time.Duration(float64(res.EndNs-res.StartNs)/speed) - 100*time.Millisecond
	if wall < minWall {
		t.Errorf("speed %d took %v, want at least %v", speed, wall, minWall)
	}
}

func batchEqual(a, b series.Batch) bool {
	if !a.Start.Equal(b.Start) || !a.End.Equal(b.End) || len(a.Samples) != len(b.Samples) {
		return false
	}
	for i := range a.Samples {
		x, y := a.Samples[i], b.Samples[i]
		if x.Key != y.Key || x.Latency != y.Latency || x.Sources != y.Sources || x.Arrivals != y.Arrivals || x.Completions != y.Completions ||
			!sameFloat(x.Depth, y.Depth) || !sameFloat(x.MeanDepth, y.MeanDepth) || !sameFloat(x.InstantDepth, y.InstantDepth) ||
			!sameFloat(x.ReportedDepth, y.ReportedDepth) || !sameFloat(x.NICDepth, y.NICDepth) || !sameFloat(x.ListenBacklog, y.ListenBacklog) {
			return false
		}
	}
	return true
}

func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

// series.bin is what the series engine computes from the SERVER spans of
// spans.otlp in file order (service.name, service.instance.id, start and
// end), the queuedepth processor's reading of them.
func TestReplayDatasetSeriesAreTheEngineOfItsSpans(t *testing.T) {
	cfg := aroundReturn
	cfg.Out = t.TempDir()
	cfg.Spans = true
	replayDay(t, "2022-08-22", cfg)
	ds, err := dataset.Open(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	var reqs []series.Span
	err = ds.Spans(func(td ptrace.Traces) error {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			svc, _ := rs.Resource().Attributes().Get("service.name")
			inst, _ := rs.Resource().Attributes().Get("service.instance.id")
			ss := rs.ScopeSpans().At(0).Spans()
			for j := 0; j < ss.Len(); j++ {
				s := ss.At(j)
				if s.Kind() != ptrace.SpanKindServer {
					continue
				}
				reqs = append(reqs, series.Span{Key: series.Key{Service: svc.Str(), Instance: inst.Str()}, TraceID: s.TraceID(), SpanID: s.SpanID(),
					Start: int64(s.StartTimestamp()), End: int64(s.EndTimestamp()), Weight: 1, Reported: math.NaN(), NIC: math.NaN()})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want tickLog
	e, err := series.NewEngine(engineConfig(100*time.Millisecond), want.onTick)
	if err != nil {
		t.Fatal(err)
	}
	for i := range reqs {
		e.Add(&reqs[i])
	}
	e.Flush()
	got, err := ds.ReadAllSeries()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, b := range want.ticks {
		for _, s := range b.Samples {
			if n >= len(got) {
				t.Fatalf("series.bin has %d records, the engine more", len(got))
			}
			r := got[n]
			if r.StartNs != b.Start.UnixNano() || !batchEqual(series.Batch{Samples: []series.Sample{r.Sample}}, series.Batch{Samples: []series.Sample{s}}) {
				t.Fatalf("record %d: %d %+v, engine %d %+v", n, r.StartNs, r.Sample, b.Start.UnixNano(), s)
			}
			n++
		}
	}
	if n != len(got) || n == 0 {
		t.Errorf("series.bin has %d records, the engine %d", len(got), n)
	}
}

// The culprit of a latency fault is where latency rises at the injection:
// the culprit's own requests (series latency) for a CPU fault, among them
// the one whose inject_time is a minute after its inject_timestamp; the
// calls into the culprit (client spans) for a network delay, which the
// culprit's server spans do not see.
func TestReplayCulpritLatencyRisesAtInjection(t *testing.T) {
	tests := []struct {
		from, to string
		viaCalls bool
	}{
		{"2022-08-22T07:09:00Z", "2022-08-22T07:13:00Z", false}, // recommendationservice cpu_consumed 07:09:43 (files 07_10 to 07_12)
		{"2022-08-22T06:35:00Z", "2022-08-22T06:38:00Z", false}, // productcatalogservice cpu_consumed 06:35:39
		{"2022-08-22T05:27:00Z", "2022-08-22T05:30:00Z", true},  // currencyservice network_delay 05:27:06
	}
	for _, tt := range tests {
		t.Run(tt.from, func(t *testing.T) {
			var log tickLog
			type call struct {
				start int64
				d     time.Duration
			}
			calls := map[string][]call{}
			cfg := Config{From: utc(tt.from), To: utc(tt.to), OnTick: log.onTick, Send: func(td ptrace.Traces) error {
				for i := 0; i < td.ResourceSpans().Len(); i++ {
					ss := td.ResourceSpans().At(i).ScopeSpans().At(0).Spans()
					for j := 0; j < ss.Len(); j++ {
						if p, ok := ss.At(j).Attributes().Get("peer.service"); ok {
							s := ss.At(j)
							calls[p.Str()] = append(calls[p.Str()], call{int64(s.StartTimestamp()), time.Duration(s.EndTimestamp() - s.StartTimestamp())})
						}
					}
				}
				return nil
			}}
			res := replayDay(t, "2022-08-22", cfg)
			if len(res.Faults) != 1 || !res.Faults[0].Full() {
				t.Fatalf("faults %+v", res.Faults)
			}
			f := res.Faults[0]
			mean := func(from, to time.Time) float64 {
				var sum time.Duration
				var n float64
				if tt.viaCalls {
					for _, c := range calls[f.Service] {
						if c.start >= from.UnixNano() && c.start < to.UnixNano() {
							sum += c.d
							n++
						}
					}
					return float64(sum) / n
				}
				for _, b := range log.ticks {
					if b.Start.Before(from) || !b.Start.Before(to) {
						continue
					}
					for _, s := range b.Samples {
						if s.Service == f.Service {
							sum += s.Latency.Sum
							n += s.Latency.Count
						}
					}
				}
				return float64(sum) / n
			}
			before := mean(f.At.Add(-30*time.Second), f.At)
			after := mean(f.At.Add(5*time.Second), f.At.Add(35*time.Second))
			if !(after > 2*before) {
				t.Errorf("%s %s: mean latency %.0f ns in the 30 s before the injection, %.0f after", f.Service, f.Type, before, after)
			}
		})
	}
}

// A replay stopped by its context returns the context's error and leaves
// the dataset without a manifest: incomplete, as FORMAT.md defines it.
func TestReplayStoppedLeavesNoManifest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := aroundReturn
	cfg.Context = ctx
	cfg.Out = t.TempDir()
	sent := 0
	cfg.Send = func(ptrace.Traces) error {
		if sent++; sent == 3 {
			cancel()
		}
		return nil
	}
	cfg.Speed = 1e6
	cfg.Dir = day(t, "2022-08-22")
	_, err := Replay(cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, dataset.ManifestFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("manifest after a stopped replay: %v", err)
	}
}
