package thrifttracing

import (
	"context"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// TestRequestWithoutTraceparentStartsATrace: on one THeader connection, a
// request without a traceparent after one with it starts a new trace
// instead of joining the previous request's.
func TestRequestWithoutTraceparentStartsATrace(t *testing.T) {
	leanServer, leanClient = true, true
	defer func() { leanServer, leanClient = false, false }()
	sink := newRecordingSink()
	st := NewTracer("server", sink)
	addr := startTHeaderServer(t, st.WrapProcessor(seerthrift.NewCollectorProcessor(collectorFunc(accept))))
	p := dialTHeader(t, addr)
	std := thrift.NewTStandardClient(p, p)
	traced := seerthrift.NewCollectorClient(thrift.WrapClient(std, NewTracer("client", sink).ClientMiddleware("server")))
	plain := seerthrift.NewCollectorClient(std)
	if _, err := traced.SubmitBatch(context.Background(), oneSpanBatch()); err != nil {
		t.Fatal(err)
	}
	var client SpanData
	for _, s := range sink.take(t, 2) {
		if s.Kind == seerthrift.SpanKind_CLIENT {
			client = s
		}
	}
	if _, err := plain.SubmitBatch(context.Background(), oneSpanBatch()); err != nil {
		t.Fatal(err)
	}
	second := sink.take(t, 1)[0]
	if !client.TraceID.IsValid() || second.TraceID == client.TraceID || second.ParentSpanID.IsValid() {
		t.Fatalf("untraced request: trace %s parent %s; the traced call before it: trace %s",
			second.TraceID, second.ParentSpanID, client.TraceID)
	}
}

type panickingProcessor struct{}

func (panickingProcessor) Process(context.Context, int32, thrift.TProtocol, thrift.TProtocol) (bool, thrift.TException) {
	panic("handler bug")
}

// TestPanickingHandler: a handler that panics ends its request (the
// outstanding count and WaitIdle do not stay raised for whoever recovers)
// with a span that says it failed, and the panic goes on.
func TestPanickingHandler(t *testing.T) {
	sink := newRecordingSink()
	tr := NewTracer("s", sink)
	f := tr.ProcessorMiddleware()("m", panickingProcessor{})
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		_, _ = f.Process(context.Background(), 1, nil, nil)
	}()
	if recovered != "handler bug" {
		t.Fatalf("recovered %v, want the handler's panic", recovered)
	}
	if n := tr.Outstanding(); n != 0 {
		t.Fatalf("outstanding %d after the panic", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.WaitIdle(ctx); err != nil {
		t.Fatalf("WaitIdle: %v", err)
	}
	s := sink.take(t, 1)[0]
	if s.Status != seerthrift.StatusCode_ERROR || s.ProcessingEndNs == 0 {
		t.Fatalf("span of the panicked request: status %v, end %d", s.Status, s.ProcessingEndNs)
	}
}
