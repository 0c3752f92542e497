package thrifttracing

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// tracedPair starts a traced Collector server around handler and returns a
// traced client to it; both record into one sink.
func tracedPair(t *testing.T, handler collectorFunc, opts ...TracerOption) (*seerthrift.CollectorClient, *Tracer, *recordingSink) {
	t.Helper()
	sink := newRecordingSink()
	serverTracer := NewTracer("server", sink)
	addr := startTHeaderServer(t, serverTracer.WrapProcessor(seerthrift.NewCollectorProcessor(handler)))
	clientTracer := NewTracer("client", sink, opts...)
	p := dialTHeader(t, addr)
	c := thrift.WrapClient(thrift.NewTStandardClient(p, p), clientTracer.ClientMiddleware("server"))
	return seerthrift.NewCollectorClient(c), serverTracer, sink
}

func oneSpanBatch() *seerthrift.SpanBatch {
	return &seerthrift.SpanBatch{Process: &seerthrift.Process{ServiceName: "s", Instance: "i"}, Spans: []*seerthrift.Span{}}
}

func TestServerAndClientSpans(t *testing.T) {
	var mu sync.Mutex
	var handlerIn, marked, handlerOut int64
	client, _, sink := tracedPair(t, func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
		mu.Lock()
		defer mu.Unlock()
		handlerIn = Now()
		MarkProcessingStart(ctx)
		marked = Now()
		handlerOut = Now()
		return &seerthrift.SubmitResult_{AcceptedSpans: 7}, nil
	})
	res, err := client.SubmitBatch(context.Background(), oneSpanBatch())
	if err != nil || res.AcceptedSpans != 7 {
		t.Fatalf("call: %v %v", res, err)
	}
	spans := sink.take(t, 2)
	sink.expectNone(t)
	cs, ss := byKind(t, spans, seerthrift.SpanKind_CLIENT, ""), byKind(t, spans, seerthrift.SpanKind_SERVER, "")
	if len(cs) != 1 || len(ss) != 1 {
		t.Fatalf("want one client and one server span, got %+v", spans)
	}
	c, s := cs[0], ss[0]
	mu.Lock()
	defer mu.Unlock()

	if c.Operation != "submitBatch" || s.Operation != "submitBatch" || c.PeerService != "server" {
		t.Errorf("names: client %q→%q, server %q", c.Operation, c.PeerService, s.Operation)
	}
	if c.Status != seerthrift.StatusCode_OK || s.Status != seerthrift.StatusCode_OK {
		t.Errorf("status: client %v server %v", c.Status, s.Status)
	}
	// Links: the client span is a root, the server span its child.
	if !c.TraceID.IsValid() || c.ParentSpanID.IsValid() {
		t.Errorf("client span should be a root of a valid trace: %+v", c)
	}
	if s.TraceID != c.TraceID || s.ParentSpanID != c.SpanID || s.SpanID == c.SpanID {
		t.Errorf("server span not a child of the client span: client %v/%v server %v/%v parent %v",
			c.TraceID, c.SpanID, s.TraceID, s.SpanID, s.ParentSpanID)
	}
	// Time order along the request's path (one process: one clock).
	order := []struct {
		name string
		v    int64
	}{
		{"client_send", c.ClientSendNs},
		{"server_receive", s.ServerReceiveNs},
		{"app_receive", s.AppReceiveNs},
		{"handler_in", handlerIn},
		{"processing_start", s.ProcessingStartNs},
		{"marked", marked},
		{"handler_out", handlerOut},
		{"processing_end", s.ProcessingEndNs},
		{"client_receive", c.ClientReceiveNs},
	}
	for i := 1; i < len(order); i++ {
		if order[i-1].v == 0 || order[i].v < order[i-1].v {
			t.Errorf("%s=%d should be set and ≤ %s=%d", order[i-1].name, order[i-1].v, order[i].name, order[i].v)
		}
	}
	if s.ProcessingStartNs < handlerIn || s.ProcessingStartNs > marked {
		t.Errorf("processing start %d not at MarkProcessingStart (%d..%d)", s.ProcessingStartNs, handlerIn, marked)
	}
	if c.ServerReceiveNs != 0 || s.ClientSendNs != 0 || s.OutstandingRequests != 0 {
		t.Errorf("fields of the other kind set: %+v %+v", c, s)
	}
}

func TestProcessingStartDefaultsToAppReceive(t *testing.T) {
	client, _, sink := tracedPair(t, accept)
	if _, err := client.SubmitBatch(context.Background(), oneSpanBatch()); err != nil {
		t.Fatal(err)
	}
	s := byKind(t, sink.take(t, 2), seerthrift.SpanKind_SERVER, "")[0]
	if s.ProcessingStartNs != s.AppReceiveNs || s.AppReceiveNs < s.ServerReceiveNs || s.ProcessingEndNs < s.ProcessingStartNs {
		t.Errorf("timestamps: %+v", s)
	}
}

func TestErrorStatus(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		err                    error
		opts                   []TracerOption
		wantClient, wantServer seerthrift.StatusCode
	}{
		{"declared exception", &seerthrift.Overloaded{Message: "busy"}, nil, seerthrift.StatusCode_OK, seerthrift.StatusCode_ERROR},
		{"declared exception as error", &seerthrift.Overloaded{Message: "busy"}, []TracerOption{WithDeclaredExceptionsAsErrors()},
			seerthrift.StatusCode_ERROR, seerthrift.StatusCode_ERROR},
		{"application error", errors.New("boom"), nil, seerthrift.StatusCode_ERROR, seerthrift.StatusCode_ERROR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, _, sink := tracedPair(t, func(context.Context, *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
				return nil, tc.err
			}, tc.opts...)
			_, err := client.SubmitBatch(context.Background(), oneSpanBatch())
			if err == nil {
				t.Fatal("call should fail")
			}
			spans := sink.take(t, 2)
			c, s := byKind(t, spans, seerthrift.SpanKind_CLIENT, "")[0], byKind(t, spans, seerthrift.SpanKind_SERVER, "")[0]
			if c.Status != tc.wantClient || s.Status != tc.wantServer {
				t.Errorf("status client %v (want %v) server %v (want %v)", c.Status, tc.wantClient, s.Status, tc.wantServer)
			}
			if s.StatusMessage == "" || (tc.wantClient == seerthrift.StatusCode_ERROR && c.StatusMessage == "") {
				t.Errorf("missing status message: client %q server %q", c.StatusMessage, s.StatusMessage)
			}
		})
	}
}

// TestPropagationAcrossTwoHops checks that a call made with the handler's
// context is a child of the handler's server span, and its server span a
// child of that call: client → server A → client → server B.
func TestPropagationAcrossTwoHops(t *testing.T) {
	sink := newRecordingSink()
	tb := NewTracer("b", sink)
	addrB := startTHeaderServer(t, tb.WrapProcessor(seerthrift.NewCollectorProcessor(collectorFunc(accept))))
	ta := NewTracer("a", sink)
	pb := dialTHeader(t, addrB)
	toB := seerthrift.NewCollectorClient(thrift.WrapClient(thrift.NewTStandardClient(pb, pb), ta.ClientMiddleware("b")))
	var mu sync.Mutex // the server serves each connection on its own goroutine
	addrA := startTHeaderServer(t, ta.WrapProcessor(seerthrift.NewCollectorProcessor(collectorFunc(
		func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
			mu.Lock()
			defer mu.Unlock()
			return toB.SubmitBatch(ctx, b)
		}))))
	tc := NewTracer("root", sink)
	pa := dialTHeader(t, addrA)
	toA := seerthrift.NewCollectorClient(thrift.WrapClient(thrift.NewTStandardClient(pa, pa), tc.ClientMiddleware("a")))

	// The root call itself runs under an OpenTelemetry span context: the
	// middleware continues it.
	otelParent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), otelParent)
	if _, err := toA.SubmitBatch(ctx, oneSpanBatch()); err != nil {
		t.Fatal(err)
	}
	spans := sink.take(t, 4)
	sink.expectNone(t)
	rootCall := byKind(t, spans, seerthrift.SpanKind_CLIENT, "a")
	bCall := byKind(t, spans, seerthrift.SpanKind_CLIENT, "b")
	servers := byKind(t, spans, seerthrift.SpanKind_SERVER, "")
	if len(rootCall) != 1 || len(bCall) != 1 || len(servers) != 2 {
		t.Fatalf("spans: %+v", spans)
	}
	var serverA, serverB SpanData
	for _, s := range servers {
		switch s.ParentSpanID {
		case rootCall[0].SpanID:
			serverA = s
		case bCall[0].SpanID:
			serverB = s
		}
	}
	chain := []struct {
		name   string
		s      SpanData
		parent trace.SpanID
	}{
		{"root client", rootCall[0], otelParent.SpanID()},
		{"server a", serverA, rootCall[0].SpanID},
		{"client a→b", bCall[0], serverA.SpanID},
		{"server b", serverB, bCall[0].SpanID},
	}
	for _, l := range chain {
		if l.s.TraceID != otelParent.TraceID() || l.s.ParentSpanID != l.parent || !l.s.SpanID.IsValid() {
			t.Errorf("%s: trace %v parent %v, want trace %v parent %v", l.name, l.s.TraceID, l.s.ParentSpanID, otelParent.TraceID(), l.parent)
		}
	}
	// Causal order across the hops.
	if !(rootCall[0].ClientSendNs <= serverA.ServerReceiveNs &&
		serverA.ProcessingStartNs <= bCall[0].ClientSendNs &&
		bCall[0].ClientSendNs <= serverB.ServerReceiveNs &&
		serverB.ProcessingEndNs <= bCall[0].ClientReceiveNs &&
		bCall[0].ClientReceiveNs <= serverA.ProcessingEndNs &&
		serverA.ProcessingEndNs <= rootCall[0].ClientReceiveNs) {
		t.Errorf("causal order broken: %+v", chain)
	}
}

func TestServerWithoutTraceparentStartsTrace(t *testing.T) {
	sink := newRecordingSink()
	tr := NewTracer("server", sink)
	addr := startTHeaderServer(t, tr.WrapProcessor(seerthrift.NewCollectorProcessor(collectorFunc(accept))))
	for _, tc := range []struct {
		name        string
		traceparent string
	}{
		{"absent", ""},
		{"malformed", "00-zz-1234-01"},
		{"all-zero trace id", "00-00000000000000000000000000000000-0102030405060708-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := dialTHeader(t, addr)
			ctx := context.Background()
			if tc.traceparent != "" {
				ctx = thrift.SetHeader(ctx, TraceparentHeader, tc.traceparent)
				ctx = thrift.SetWriteHeaderList(ctx, []string{TraceparentHeader})
			}
			if _, err := seerthrift.NewCollectorClient(thrift.NewTStandardClient(p, p)).SubmitBatch(ctx, oneSpanBatch()); err != nil {
				t.Fatal(err)
			}
			s := sink.take(t, 1)[0]
			if !s.TraceID.IsValid() || s.ParentSpanID.IsValid() || !s.SpanID.IsValid() {
				t.Errorf("want a new root span, got trace %v parent %v span %v", s.TraceID, s.ParentSpanID, s.SpanID)
			}
		})
	}
}

// TestOutstandingCountsConcurrentArrivals holds C requests in the handler
// until all have arrived: the i-th arrival must see exactly i outstanding.
func TestOutstandingCountsConcurrentArrivals(t *testing.T) {
	const C = 6
	arrived := make(chan struct{})
	release := make(chan struct{})
	sink := newRecordingSink()
	serverTracer := NewTracer("server", sink)
	addr := startTHeaderServer(t, serverTracer.WrapProcessor(seerthrift.NewCollectorProcessor(collectorFunc(
		func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
			if b.GetSeqNo() >= 0 { // held requests; the lone one after passes
				arrived <- struct{}{}
				<-release
			}
			return accept(ctx, b)
		}))))
	var wg sync.WaitGroup
	errs := make(chan error, C)
	for range C {
		p := dialTHeader(t, addr)
		c := seerthrift.NewCollectorClient(thrift.NewTStandardClient(p, p))
		wg.Go(func() {
			b := oneSpanBatch()
			seq := int64(0)
			b.SeqNo = &seq
			if _, err := c.SubmitBatch(context.Background(), b); err != nil {
				errs <- err
			}
		})
	}
	for range C {
		<-arrived
	}
	if got := serverTracer.Outstanding(); got != C {
		t.Errorf("Outstanding() with %d held = %d", C, got)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var seen []int32
	for _, s := range sink.take(t, C) {
		seen = append(seen, s.OutstandingRequests)
	}
	slices.Sort(seen)
	for i, v := range seen {
		if v != int32(i) {
			t.Fatalf("outstanding at arrival = %v, want 0..%d", seen, C-1)
		}
	}
	if got := serverTracer.Outstanding(); got != 0 {
		t.Errorf("Outstanding() after all completed = %d", got)
	}
	// A lone request afterwards sees an idle instance.
	p := dialTHeader(t, addr)
	b := oneSpanBatch()
	seq := int64(-1)
	b.SeqNo = &seq
	if _, err := seerthrift.NewCollectorClient(thrift.NewTStandardClient(p, p)).SubmitBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if s := sink.take(t, 1)[0]; s.OutstandingRequests != 0 {
		t.Errorf("lone request saw %d outstanding", s.OutstandingRequests)
	}
}

func TestInjectTraceparent(t *testing.T) {
	if !probedKeys() {
		t.Fatal("could not learn thrift's header context keys; calls fall back to the slow path")
	}
	tid := trace.TraceID{0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff}
	sid := trace.SpanID{0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3}
	// The reference: what OpenTelemetry's propagator writes.
	var ref headerCarrier
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})), &ref)
	want := ref.traceparent
	if want != "00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01" {
		t.Fatalf("OpenTelemetry wrote %q", want)
	}

	for _, inject := range []struct {
		name string
		f    func(parent context.Context) context.Context
	}{
		{"fast", func(parent context.Context) context.Context {
			return new(clientCall).withTraceparent(parent, tid, sid)
		}},
		{"portable", func(parent context.Context) context.Context {
			var b [traceparentLen]byte
			formatTraceparent(&b, tid, sid)
			return injectWithThrift(parent, string(b[:]))
		}},
	} {
		t.Run(inject.name, func(t *testing.T) {
			// Plain context: only traceparent is written.
			ctx := inject.f(context.Background())
			got, ok := thrift.GetHeader(ctx, TraceparentHeader)
			if !ok || got != want {
				t.Errorf("traceparent = %q, want %q", got, want)
			}
			if keys := thrift.GetWriteHeaderList(ctx); !slices.Equal(keys, []string{TraceparentHeader}) {
				t.Errorf("write headers = %v", keys)
			}
			sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), &headerCarrier{traceparent: got}))
			if sc.TraceID() != tid || sc.SpanID() != sid || !sc.IsSampled() {
				t.Errorf("round trip through OpenTelemetry: %v", sc)
			}
			// Other values still come from the parent.
			type k struct{}
			if v := inject.f(context.WithValue(context.Background(), k{}, 7)).Value(k{}); v != 7 {
				t.Errorf("parent value lost: %v", v)
			}

			// A server context that forwards headers keeps them, and the
			// new value replaces a forwarded traceparent.
			fwd := []string{"x-tenant"}
			ctx = inject.f(thrift.SetWriteHeaderList(thrift.SetHeader(context.Background(), "x-tenant", "t1"), fwd))
			if keys := thrift.GetWriteHeaderList(ctx); !slices.Equal(keys, []string{"x-tenant", TraceparentHeader}) || !slices.Equal(fwd, []string{"x-tenant"}) {
				t.Errorf("write headers = %v (forwarded list now %v)", keys, fwd)
			}
			if v, _ := thrift.GetHeader(ctx, "x-tenant"); v != "t1" {
				t.Errorf("forwarded header = %q", v)
			}
			ctx = inject.f(thrift.SetWriteHeaderList(thrift.SetHeader(context.Background(), TraceparentHeader, "old"), []string{TraceparentHeader}))
			if got, _ := thrift.GetHeader(ctx, TraceparentHeader); got != want || len(thrift.GetWriteHeaderList(ctx)) != 1 {
				t.Errorf("forwarded traceparent not replaced: %q %v", got, thrift.GetWriteHeaderList(ctx))
			}
		})
	}
}

func TestMarkProcessingStartOutsideRequestIsNoop(t *testing.T) {
	MarkProcessingStart(context.Background())
	if sc := SpanContextFromContext(context.Background()); sc.IsValid() {
		t.Errorf("span context outside a request: %v", sc)
	}
}

func TestIDsAreValidAndDistinct(t *testing.T) {
	seen := map[trace.SpanID]bool{}
	for range 1000 {
		id := newSpanID()
		if !id.IsValid() || seen[id] {
			t.Fatalf("bad or repeated span id %v", id)
		}
		seen[id] = true
		if !newTraceID().IsValid() {
			t.Fatal("invalid trace id")
		}
	}
}

func TestWaitIdle(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{})
	client, tr, sink := tracedPair(t, func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
		close(arrived)
		<-release
		return accept(ctx, b)
	})
	if err := tr.WaitIdle(context.Background()); err != nil {
		t.Fatalf("idle tracer: %v", err)
	}
	called := make(chan error, 1)
	go func() {
		_, err := client.SubmitBatch(context.Background(), oneSpanBatch())
		called <- err
	}()
	<-arrived
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tr.WaitIdle(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitIdle with a request held = %v", err)
	}
	idle := make(chan error)
	go func() { idle <- tr.WaitIdle(context.Background()) }()
	close(release)
	if err := <-idle; err != nil {
		t.Fatal(err)
	}
	if err := <-called; err != nil {
		t.Fatal(err)
	}
	// The server span was recorded before the instance went idle.
	var server int
	for range 2 {
		select {
		case s := <-sink.ch:
			if s.Kind == seerthrift.SpanKind_SERVER {
				server++
			}
		default:
		}
	}
	if server != 1 {
		t.Errorf("server span not recorded when WaitIdle returned")
	}
}

// TestReplyEndsOutstanding: a request stops counting before its reply is
// written, so a caller's next request, even on another connection (served by
// another goroutine), never sees the previous one as outstanding.
func TestReplyEndsOutstanding(t *testing.T) {
	sink := newRecordingSink()
	tr := NewTracer("server", sink)
	addr := startTHeaderServer(t, tr.WrapProcessor(seerthrift.NewCollectorProcessor(collectorFunc(accept))))
	var clients []*seerthrift.CollectorClient
	for range 2 {
		p := dialTHeader(t, addr)
		clients = append(clients, seerthrift.NewCollectorClient(thrift.NewTStandardClient(p, p)))
	}
	const n = 200
	for i := range n {
		if _, err := clients[i%2].SubmitBatch(context.Background(), oneSpanBatch()); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range sink.take(t, n) {
		if s.OutstandingRequests != 0 {
			t.Fatalf("sequential request saw %d outstanding", s.OutstandingRequests)
		}
	}
}
