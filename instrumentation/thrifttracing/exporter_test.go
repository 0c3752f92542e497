package thrifttracing

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// batchLog records what a test collector received.
type batchLog struct {
	mu      sync.Mutex
	batches []*seerthrift.SpanBatch
	got     chan *seerthrift.SpanBatch
}

func newBatchLog() *batchLog { return &batchLog{got: make(chan *seerthrift.SpanBatch, 1024)} }

func (l *batchLog) add(b *seerthrift.SpanBatch) {
	l.mu.Lock()
	l.batches = append(l.batches, b)
	l.mu.Unlock()
	l.got <- b
}

func (l *batchLog) all() []*seerthrift.SpanBatch {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.batches)
}

func (l *batchLog) next(t *testing.T) *seerthrift.SpanBatch {
	t.Helper()
	select {
	case b := <-l.got:
		return b
	case <-time.After(waitTimeout):
		t.Fatal("no batch arrived")
		return nil
	}
}

// sleepLog replaces the exporter's backoff sleep: it records the waits and
// returns at once, so retry tests run without real time passing.
type sleepLog struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepLog) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepLog) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

func newTestExporter(t testing.TB, cfg ExporterConfig) *Exporter {
	t.Helper()
	if cfg.ServiceName == "" {
		cfg.ServiceName = "svc"
	}
	if cfg.Instance == "" {
		cfg.Instance = "inst-1"
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = time.Hour // tests flush explicitly
	}
	e, err := NewExporter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = e.Shutdown(ctx)
	})
	return e
}

func flush(t *testing.T, e *Exporter) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	return e.ForceFlush(ctx)
}

func testSpan(i int, kind seerthrift.SpanKind) SpanData {
	s := SpanData{
		TraceID:   trace.TraceID{byte(i), 1},
		SpanID:    trace.SpanID{byte(i), 2},
		Operation: "op",
		Kind:      kind,
		Status:    seerthrift.StatusCode_OK,
	}
	if kind == seerthrift.SpanKind_SERVER {
		s.ParentSpanID = trace.SpanID{byte(i), 3}
		s.ServerReceiveNs, s.AppReceiveNs, s.ProcessingStartNs, s.ProcessingEndNs = 10, 20, 30, 40
		s.OutstandingRequests = 0 // must still be sent: 0 is a measurement
	} else {
		s.ClientSendNs, s.ClientReceiveNs = 5, 50
		s.PeerService = "peer"
		s.Status = seerthrift.StatusCode_ERROR
		s.StatusMessage = "boom"
	}
	return s
}

func TestExporterSendsBatches(t *testing.T) {
	log := newBatchLog()
	col := newTestCollector(t, func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
		log.add(b)
		return accept(ctx, b)
	})
	e := newTestExporter(t, ExporterConfig{Endpoint: col.addr(), MaxBatchSize: 3, Host: "h"})
	for i := range 7 {
		s := testSpan(i, seerthrift.SpanKind(1+i%2))
		e.Record(&s)
	}
	if err := flush(t, e); err != nil {
		t.Fatal(err)
	}
	batches := log.all()
	var sizes []int
	for i, b := range batches {
		sizes = append(sizes, len(b.Spans))
		if b.GetSeqNo() != int64(i+1) || b.IsSetDroppedSpans() {
			t.Errorf("batch %d: seq %d dropped %v", i, b.GetSeqNo(), b.DroppedSpans)
		}
		if p := b.Process; p.ServiceName != "svc" || p.Instance != "inst-1" || p.GetHost() != "h" {
			t.Errorf("process %+v", p)
		}
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("batch sizes %v, want [3 3 1]", sizes)
	}
	server, client := batches[0].Spans[0], batches[0].Spans[1]
	if server.Kind != seerthrift.SpanKind_SERVER || server.GetServerReceiveNs() != 10 || server.GetAppReceiveNs() != 20 ||
		server.GetProcessingStartNs() != 30 || server.GetProcessingEndNs() != 40 || !server.IsSetOutstandingRequests() ||
		server.IsSetClientSendNs() || server.IsSetPeerService() || len(server.ParentSpanID) != 8 || len(server.TraceID) != 16 {
		t.Errorf("server span on the wire: %v", server)
	}
	if client.Kind != seerthrift.SpanKind_CLIENT || client.GetClientSendNs() != 5 || client.GetClientReceiveNs() != 50 ||
		client.GetPeerService() != "peer" || client.IsSetOutstandingRequests() || client.IsSetServerReceiveNs() ||
		client.ParentSpanID != nil || client.GetStatusMessage() != "boom" || client.Status != seerthrift.StatusCode_ERROR {
		t.Errorf("client span on the wire: %v", client)
	}
	if e.Exported() != 7 || e.batches.Load() != 3 || col.acceptCount() != 1 {
		t.Errorf("exported %d batches %d connections %d", e.Exported(), e.batches.Load(), col.acceptCount())
	}
}

func TestExporterFlushesOnInterval(t *testing.T) {
	log := newBatchLog()
	col := newTestCollector(t, func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
		log.add(b)
		return accept(ctx, b)
	})
	e := newTestExporter(t, ExporterConfig{Endpoint: col.addr(), FlushInterval: 5 * time.Millisecond})
	s := testSpan(1, seerthrift.SpanKind_SERVER)
	e.Record(&s)
	// No ForceFlush: the ticker must send the partial batch.
	if b := log.next(t); len(b.Spans) != 1 {
		t.Errorf("batch of %d spans", len(b.Spans))
	}
}

// TestExporterDropsWhenFullWithoutBlocking stalls the collector so the
// buffer fills, and checks that Record keeps returning and counts each drop,
// and that the next batch reports them.
func TestExporterDropsWhenFullWithoutBlocking(t *testing.T) {
	log := newBatchLog()
	stall := make(chan struct{})
	var once sync.Once
	col := newTestCollector(t, func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
		log.add(b)
		once.Do(func() { <-stall })
		return accept(ctx, b)
	})
	const capacity = 4
	e := newTestExporter(t, ExporterConfig{Endpoint: col.addr(), BufferSize: capacity, MaxBatchSize: 1})
	s := testSpan(1, seerthrift.SpanKind_SERVER)
	e.Record(&s)
	log.next(t) // the export goroutine is now stuck in the first send

	const extra = 1000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range extra {
			e.Record(&s)
		}
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("Record blocked on a full buffer")
	}
	if got, want := e.Dropped(DropBufferFull), int64(extra-capacity); got != want {
		t.Errorf("dropped %d, want %d", got, want)
	}
	if got := e.buf.len(); got != capacity {
		t.Errorf("buffer holds %d, want %d", got, capacity)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	if v := metricValue(t, reg, MetricSpansDropped, "reason", DropBufferFull); v != extra-capacity {
		t.Errorf("%s{buffer_full} = %v", MetricSpansDropped, v)
	}
	if v := metricValue(t, reg, MetricBufferLength, "", ""); v != capacity {
		t.Errorf("%s = %v", MetricBufferLength, v)
	}
	if v := metricValue(t, reg, MetricBufferCapacity, "", ""); v != capacity {
		t.Errorf("%s = %v", MetricBufferCapacity, v)
	}

	close(stall)
	if err := flush(t, e); err != nil {
		t.Fatal(err)
	}
	batches := log.all()
	if len(batches) != 1+capacity {
		t.Fatalf("%d batches, want %d", len(batches), 1+capacity)
	}
	if batches[0].IsSetDroppedSpans() || batches[1].GetDroppedSpans() != extra-capacity {
		t.Errorf("dropped_spans: first %v, second %v; want unset, %d", batches[0].DroppedSpans, batches[1].DroppedSpans, extra-capacity)
	}
	for _, b := range batches[2:] {
		if b.IsSetDroppedSpans() {
			t.Errorf("drops reported twice: batch %d has %d", b.GetSeqNo(), b.GetDroppedSpans())
		}
	}
	if v := metricValue(t, reg, MetricSpansExported, "", ""); v != 1+capacity {
		t.Errorf("%s = %v", MetricSpansExported, v)
	}
}

func TestExporterRetriesOverloaded(t *testing.T) {
	log := newBatchLog()
	var mu sync.Mutex
	hints := []*int32{ptr(int32(700)), nil, ptr(int32(60_000))} // then accept
	col := newTestCollector(t, func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
		log.add(b)
		mu.Lock()
		defer mu.Unlock()
		if len(hints) > 0 {
			h := hints[0]
			hints = hints[1:]
			return nil, &seerthrift.Overloaded{Message: "busy", RetryAfterMs: h}
		}
		return accept(ctx, b)
	})
	sl := &sleepLog{}
	e := newTestExporter(t, ExporterConfig{Endpoint: col.addr(), InitialBackoff: 100 * time.Millisecond,
		MaxBackoff: 2 * time.Second, MaxRetries: 3, sleep: sl.sleep})
	s := testSpan(1, seerthrift.SpanKind_SERVER)
	e.Record(&s)
	if err := flush(t, e); err != nil {
		t.Fatalf("flush after retries: %v", err)
	}
	// The hint wins over a shorter backoff (700ms > 100ms), backoff doubles
	// without a hint (200ms), and a long hint is capped at MaxBackoff.
	if got, want := sl.get(), []time.Duration{700 * time.Millisecond, 200 * time.Millisecond, 2 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	batches := log.all()
	if len(batches) != 4 || batches[3].GetSeqNo() != batches[0].GetSeqNo() {
		t.Errorf("want the same batch 4 times, got %d", len(batches))
	}
	if e.Exported() != 1 || e.retriesOver.Load() != 3 || e.totalDropped() != 0 || col.acceptCount() != 1 {
		t.Errorf("exported %d retries %d dropped %d connections %d", e.Exported(), e.retriesOver.Load(), e.totalDropped(), col.acceptCount())
	}
}

func ptr[T any](v T) *T { return &v }

func TestExporterDropsAfterRetriesAndReportsIt(t *testing.T) {
	log := newBatchLog()
	var overloaded sync.Mutex
	busy := true
	col := newTestCollector(t, func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
		log.add(b)
		overloaded.Lock()
		defer overloaded.Unlock()
		if busy {
			return nil, &seerthrift.Overloaded{Message: "busy"}
		}
		return accept(ctx, b)
	})
	sl := &sleepLog{}
	e := newTestExporter(t, ExporterConfig{Endpoint: col.addr(), MaxRetries: 2, sleep: sl.sleep})
	for i := range 3 {
		s := testSpan(i, seerthrift.SpanKind_CLIENT)
		e.Record(&s)
	}
	if err := flush(t, e); err == nil {
		t.Fatal("flush should report the dropped batch")
	}
	if got := len(log.all()); got != 3 {
		t.Errorf("%d attempts, want 3 (1 + 2 retries)", got)
	}
	if e.Dropped(DropRetriesExhausted) != 3 || e.Exported() != 0 {
		t.Errorf("dropped %d exported %d", e.Dropped(DropRetriesExhausted), e.Exported())
	}
	overloaded.Lock()
	busy = false
	overloaded.Unlock()
	s := testSpan(9, seerthrift.SpanKind_CLIENT)
	e.Record(&s)
	if err := flush(t, e); err != nil {
		t.Fatal(err)
	}
	all := log.all()
	if last := all[len(all)-1]; last.GetDroppedSpans() != 3 || len(last.Spans) != 1 {
		t.Errorf("next batch reports %d dropped, %d spans; want 3, 1", last.GetDroppedSpans(), len(last.Spans))
	}
}

func TestExporterDropsInvalidBatchWithoutRetry(t *testing.T) {
	log := newBatchLog()
	var mu sync.Mutex
	reject := true
	col := newTestCollector(t, func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
		log.add(b)
		mu.Lock()
		defer mu.Unlock()
		if reject {
			reject = false
			return nil, &seerthrift.InvalidBatch{Message: "bad"}
		}
		return accept(ctx, b)
	})
	sl := &sleepLog{}
	onDrop := make(chan error, 1)
	e := newTestExporter(t, ExporterConfig{Endpoint: col.addr(), sleep: sl.sleep, OnDrop: func(err error) { onDrop <- err }})
	s := testSpan(1, seerthrift.SpanKind_SERVER)
	e.Record(&s)
	e.Record(&s)
	err := flush(t, e)
	if reported := <-onDrop; !errors.Is(reported, err) && reported.Error() != err.Error() {
		t.Errorf("OnDrop got %v, flush %v", reported, err)
	}
	var invalid *seerthrift.InvalidBatch
	if !errors.As(err, &invalid) {
		t.Fatalf("flush error %v, want InvalidBatch", err)
	}
	if len(sl.get()) != 0 || len(log.all()) != 1 || e.Dropped(DropInvalidBatch) != 2 {
		t.Errorf("waits %v attempts %d dropped %d", sl.get(), len(log.all()), e.Dropped(DropInvalidBatch))
	}
	e.Record(&s)
	if err := flush(t, e); err != nil {
		t.Fatal(err)
	}
	if b := log.all()[1]; b.GetDroppedSpans() != 2 {
		t.Errorf("next batch reports %d dropped, want 2", b.GetDroppedSpans())
	}
}

// TestExporterReconnects cuts the collector's side of the connection between
// batches; the next batch must go through on a new connection, not be lost.
func TestExporterReconnects(t *testing.T) {
	log := newBatchLog()
	col := newTestCollector(t, func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
		log.add(b)
		return accept(ctx, b)
	})
	sl := &sleepLog{}
	e := newTestExporter(t, ExporterConfig{Endpoint: col.addr(), sleep: sl.sleep})
	s := testSpan(1, seerthrift.SpanKind_SERVER)
	e.Record(&s)
	if err := flush(t, e); err != nil {
		t.Fatal(err)
	}
	col.cutConnections()
	e.Record(&s)
	if err := flush(t, e); err != nil {
		t.Fatalf("batch after the cut: %v", err)
	}
	if e.Exported() != 2 || col.acceptCount() != 2 || e.connects.Load() != 2 || e.retriesTrans.Load() != 1 {
		t.Errorf("exported %d, collector accepted %d connections, exporter opened %d, transport retries %d",
			e.Exported(), col.acceptCount(), e.connects.Load(), e.retriesTrans.Load())
	}
}

func TestExporterRetriesDialErrors(t *testing.T) {
	col := newTestCollector(t, accept)
	addr := col.addr()
	_ = col.ln.Close() // nothing listens there any more
	sl := &sleepLog{}
	e := newTestExporter(t, ExporterConfig{Endpoint: addr, MaxRetries: 2, sleep: sl.sleep})
	s := testSpan(1, seerthrift.SpanKind_SERVER)
	e.Record(&s)
	if err := flush(t, e); err == nil {
		t.Fatal("flush to a closed port should fail")
	}
	if e.Dropped(DropRetriesExhausted) != 1 || len(sl.get()) != 2 || e.connects.Load() != 0 {
		t.Errorf("dropped %d waits %v connects %d", e.Dropped(DropRetriesExhausted), sl.get(), e.connects.Load())
	}
}

func TestExporterShutdownFlushes(t *testing.T) {
	log := newBatchLog()
	col := newTestCollector(t, func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
		log.add(b)
		return accept(ctx, b)
	})
	e := newTestExporter(t, ExporterConfig{Endpoint: col.addr()})
	for i := range 5 {
		s := testSpan(i, seerthrift.SpanKind_SERVER)
		e.Record(&s)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.Exported() != 5 || len(log.all()) != 1 {
		t.Errorf("exported %d in %d batches", e.Exported(), len(log.all()))
	}
	s := testSpan(9, seerthrift.SpanKind_SERVER)
	e.Record(&s)
	if e.Dropped(DropShutdown) != 1 {
		t.Errorf("span after shutdown: dropped(shutdown) = %d", e.Dropped(DropShutdown))
	}
	if err := e.ForceFlush(context.Background()); !errors.Is(err, ErrExporterShutdown) {
		t.Errorf("ForceFlush after Shutdown = %v", err)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown = %v", err)
	}
}

// TestExporterShutdownDeadline: a collector that stays overloaded cannot hold
// Shutdown past its context; the pending spans are dropped as "shutdown".
func TestExporterShutdownDeadline(t *testing.T) {
	col := newTestCollector(t, func(context.Context, *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
		return nil, &seerthrift.Overloaded{Message: "busy"}
	})
	waiting := make(chan struct{}, 16)
	e := newTestExporter(t, ExporterConfig{Endpoint: col.addr(), MaxRetries: 100,
		sleep: func(ctx context.Context, d time.Duration) error {
			waiting <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}})
	for i := range 3 {
		s := testSpan(i, seerthrift.SpanKind_SERVER)
		e.Record(&s)
	}
	go func() { _ = e.ForceFlush(context.Background()) }()
	<-waiting // the batch is in its backoff
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v, want context.Canceled", err)
	}
	if e.Dropped(DropShutdown) != 3 {
		t.Errorf("dropped(shutdown) = %d, want 3", e.Dropped(DropShutdown))
	}
}

func TestExporterConfig(t *testing.T) {
	if _, err := NewExporter(ExporterConfig{}); err == nil {
		t.Error("missing ServiceName accepted")
	}
	e := newTestExporter(t, ExporterConfig{ServiceName: "x", Instance: "y", MaxRetries: -1})
	if e.cfg.Endpoint != DefaultEndpoint || e.cfg.MaxRetries != 0 || e.buf.cap() != 8192 || e.cfg.MaxBatchSize != 512 {
		t.Errorf("defaults: %+v", e.cfg)
	}
}

func TestExporterMetricsRegisterTogether(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	a := newTestExporter(t, ExporterConfig{ServiceName: "a"})
	b := newTestExporter(t, ExporterConfig{ServiceName: "b"})
	if err := reg.Register(a); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(b); err != nil {
		t.Fatalf("two exporters on one registry: %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	want := []string{MetricBatchesSent, MetricBufferCapacity, MetricBufferLength, MetricConnects, MetricExportRetries, MetricSpansDropped, MetricSpansExported}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("metrics %v, want %v", names, want)
	}
}

// metricValue returns the value of the series of name with label=value (any
// series if label is ""), failing if there is none.
func metricValue(t *testing.T, g prometheus.Gatherer, name, label, value string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					match = true
				}
			}
			if !match {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no metric %s{%s=%q}", name, label, value)
	return 0
}

func TestTracerMetric(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	tr := NewTracer("svc", newRecordingSink())
	reg.MustRegister(tr, NewTracer("other", newRecordingSink()))
	tr.outstanding.Add(3)
	if v := metricValue(t, reg, MetricOutstanding, "service", "svc"); v != 3 {
		t.Errorf("%s{service=svc} = %v, want 3", MetricOutstanding, v)
	}
}
