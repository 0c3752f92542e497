package socialnetwork

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seer-qos/seer/idl/seerthrift"
	"github.com/seer-qos/seer/instrumentation/thrifttracing"
)

// waitTimeout bounds every wait: reaching it is a failure, never how a test
// synchronises.
const waitTimeout = 20 * time.Second

// serverSpan is what the tests read of a SERVER span.
type serverSpan struct {
	op          string
	trace       [16]byte
	latency     time.Duration // server receive to processing end
	outstanding int32
}

// recorder keeps the SERVER spans of every service.
type recorder struct {
	mu    sync.Mutex
	spans map[string][]serverSpan
}

func newRecorder() *recorder { return &recorder{spans: make(map[string][]serverSpan)} }

type serviceSink struct {
	r       *recorder
	service string
}

func (s serviceSink) Record(d *thrifttracing.SpanData) {
	if d.Kind != seerthrift.SpanKind_SERVER {
		return
	}
	s.r.mu.Lock()
	s.r.spans[s.service] = append(s.r.spans[s.service], serverSpan{op: d.Operation, trace: d.TraceID,
		latency: time.Duration(d.ProcessingEndNs - d.ServerReceiveNs), outstanding: d.OutstandingRequests})
	s.r.mu.Unlock()
}

func (r *recorder) sink(service string) thrifttracing.SpanSink { return serviceSink{r, service} }

// take returns the spans of service recorded so far and forgets them all.
func (r *recorder) take(service string) []serverSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.spans[service]
	r.spans = make(map[string][]serverSpan)
	return out
}

// startTestApp starts the services with their spans going to a recorder.
func startTestApp(t *testing.T, cfg AppConfig) (*App, *recorder) {
	t.Helper()
	rec := newRecorder()
	cfg.sink = rec.sink
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	app, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), waitTimeout)
		defer scancel()
		if err := app.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return app, rec
}

// load sends n open-loop requests at rate through app, waits until every
// service is idle and returns the results.
func load(t *testing.T, app *App, rate float64, n int, observe func(Result)) []Result {
	t.Helper()
	var mu sync.Mutex
	var results []Result
	g, err := NewGenerator(LoadConfig{Rate: rate, Seed: 1}, app.NewClient().Sender(), func(r Result) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
		if observe != nil {
			observe(r)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := g.Run(ctx, n); err != nil {
		t.Fatal(err)
	}
	if err := app.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(results) != n {
		t.Fatalf("%d results for %d requests", len(results), n)
	}
	return results
}

// quantile is the nearest-rank q-quantile of ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	return s[rank(len(s), q)]
}

// spanStats are the median latency of spans and their mean outstanding
// requests at arrival, trimmed of the highest tenth: on a machine busy with
// other work, a moment without CPU piles up requests everywhere, and the
// trimmed mean keeps such moments from deciding the comparison.
func spanStats(spans []serverSpan) (p50 time.Duration, meanOut float64) {
	lat := make([]time.Duration, len(spans))
	out := make([]int32, len(spans))
	for i, s := range spans {
		lat[i], out[i] = s.latency, s.outstanding
	}
	slices.Sort(out)
	kept := out[:len(out)-len(out)/10]
	for _, o := range kept {
		meanOut += float64(o)
	}
	if len(kept) > 0 {
		meanOut /= float64(len(kept))
	}
	return quantile(lat, 0.5), meanOut
}
