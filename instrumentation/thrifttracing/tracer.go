package thrifttracing

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/thrift/lib/go/thrift"
	"go.opentelemetry.io/otel/trace"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// TraceparentHeader is the THeader key that carries the W3C trace context.
const TraceparentHeader = "traceparent"

// Tracer records the spans of one service instance: the server spans of the
// requests it serves and the client spans of the calls it makes. It is safe
// for concurrent use.
type Tracer struct {
	service string
	sink    SpanSink
	// outstanding counts requests from arrival to the end of processing
	// (the reply starts): a caller cannot see the reply before its request
	// stops counting, so its next request never counts the previous one.
	outstanding atomic.Int64
	// active counts requests until their span is recorded, for WaitIdle.
	active atomic.Int64
	// waiters, idleMu and idle let WaitIdle block until active drops to
	// zero; the RPC path only pays an atomic load when nobody waits.
	waiters atomic.Int32
	idleMu  sync.Mutex
	idle    chan struct{}
	// statusFromResult also marks CLIENT spans as errors when the reply
	// carries an exception declared in the IDL (found by reflection).
	statusFromResult bool
}

// TracerOption configures a Tracer.
type TracerOption func(*Tracer)

// WithDeclaredExceptionsAsErrors marks a CLIENT span as an error when the
// reply carries an exception declared in the IDL, as the server span of the
// same call already is. It costs a reflective look at each result.
func WithDeclaredExceptionsAsErrors() TracerOption {
	return func(t *Tracer) { t.statusFromResult = true }
}

// NewTracer returns a Tracer for the service instance named service that
// sends its spans to sink.
func NewTracer(service string, sink SpanSink, opts ...TracerOption) *Tracer {
	t := &Tracer{service: service, sink: sink}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Service returns the service name the Tracer was created with.
func (t *Tracer) Service() string { return t.service }

// Outstanding returns the number of requests that arrived at the instance
// and have not finished processing.
func (t *Tracer) Outstanding() int64 { return t.outstanding.Load() }

// WaitIdle waits until no request is in progress at the instance, or ctx
// ends. A request's span has been handed to the sink before it stops
// counting as in progress, so after WaitIdle (and with no new requests) a
// flush of the sink exports every server span.
func (t *Tracer) WaitIdle(ctx context.Context) error {
	t.waiters.Add(1)
	defer t.waiters.Add(-1)
	for {
		t.idleMu.Lock()
		if t.idle == nil {
			t.idle = make(chan struct{})
		}
		ch := t.idle
		t.idleMu.Unlock()
		// Checked after publishing ch and counting as a waiter, so a
		// request finishing in between either is seen here or sees us.
		if t.active.Load() == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to be idle: %w", t.service, ctx.Err())
		}
	}
}

func (t *Tracer) done() {
	if t.active.Add(-1) == 0 && t.waiters.Load() > 0 {
		t.idleMu.Lock()
		if t.idle != nil {
			close(t.idle)
			t.idle = nil
		}
		t.idleMu.Unlock()
	}
}

// WrapProcessor wraps every function of p with ProcessorMiddleware and
// returns p.
func (t *Tracer) WrapProcessor(p thrift.TProcessor) thrift.TProcessor {
	return thrift.WrapProcessor(p, t.ProcessorMiddleware())
}

// ProcessorMiddleware returns a middleware that records a SERVER span per
// request. Put it first (outermost) so that its timestamps include the other
// middlewares.
func (t *Tracer) ProcessorMiddleware() thrift.ProcessorMiddleware {
	return func(name string, next thrift.TProcessorFunction) thrift.TProcessorFunction {
		return &serverFunc{t: t, name: name, next: next, opID: names.mustID(name)}
	}
}

type serverFunc struct {
	t    *Tracer
	name string
	next thrift.TProcessorFunction
	opID uint32 // names id of name
}

// serverCall is everything one request needs, in one allocation: it is the
// handler's context (so that MarkProcessingStart and client calls find the
// span), the protocol wrappers that timestamp decode and reply, and the
// span. It is never reused, so a handler
// that keeps its context after returning cannot corrupt another request.
type serverCall struct {
	context.Context
	t    *Tracer
	span SpanData
	in   timedInput
	out  timedOutput
}

// Value makes the call findable from the handler's context.
func (c *serverCall) Value(key any) any {
	if key == (ctxKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// Process records the span around next.Process. The generated processor has
// already read the message header, so the request is in: that is the
// server-receive time (with THeader the whole frame was read before).
func (f *serverFunc) Process(ctx context.Context, seqID int32, in, out thrift.TProtocol) (bool, thrift.TException) {
	c := &serverCall{Context: ctx, t: f.t}
	s := &c.span
	s.ServerReceiveNs = Now()
	// Add returns the count including this request; the IDL wants the
	// requests already outstanding, so subtract it back.
	s.OutstandingRequests = int32(f.t.outstanding.Add(1) - 1)
	f.t.active.Add(1)
	s.Kind = seerthrift.SpanKind_SERVER
	s.Operation, s.opID = f.name, f.opID
	var tpOK bool
	if hp, ok := in.(*HeaderProtocol); ok {
		// Served by NewTSimpleServer: the transport kept the ids.
		s.TraceID, s.ParentSpanID, tpOK = hp.t.traceparent()
	} else if tp, ok := readTraceparent(ctx); ok {
		s.TraceID, s.ParentSpanID, tpOK = parseTraceparent(tp)
	}
	if !tpOK || !s.TraceID.IsValid() {
		// No (valid) traceparent: the request starts a new trace.
		s.TraceID, s.ParentSpanID = newTraceID(), trace.SpanID{}
	}
	s.SpanID = newSpanID()
	c.in = timedInput{TProtocol: in, c: c}
	c.out = timedOutput{TProtocol: out, c: c}

	defer func() {
		// A handler that panics still ends its span and its request, so the
		// counts stay true for whoever recovers (the panic goes on).
		if r := recover(); r != nil {
			f.finish(s, thrift.NewTApplicationException(thrift.INTERNAL_ERROR, fmt.Sprintf("panic: %v", r)))
			panic(r)
		}
	}()
	ok, err := f.next.Process(c, seqID, &c.in, &c.out)
	f.finish(s, err)
	return ok, err
}

// finish ends the span of a served request and records it.
func (f *serverFunc) finish(s *SpanData, err error) {
	if s.AppReceiveNs == 0 {
		s.AppReceiveNs = s.ServerReceiveNs
	}
	if s.ProcessingStartNs == 0 {
		s.ProcessingStartNs = s.AppReceiveNs
	}
	if s.ProcessingEndNs == 0 { // oneway, or no reply written
		s.ProcessingEndNs = Now()
		f.t.outstanding.Add(-1)
	}
	s.endStatus(err)
	f.t.sink.Record(s)
	f.t.done() // after Record: see WaitIdle
}

// timedInput timestamps the end of argument decoding.
type timedInput struct {
	thrift.TProtocol
	c *serverCall
}

func (p *timedInput) ReadMessageEnd(ctx context.Context) error {
	err := p.TProtocol.ReadMessageEnd(ctx)
	if p.c.span.AppReceiveNs == 0 {
		p.c.span.AppReceiveNs = Now()
	}
	return err
}

// timedOutput timestamps the start of the reply and notes exceptions.
type timedOutput struct {
	thrift.TProtocol
	c *serverCall
}

func (p *timedOutput) WriteMessageBegin(ctx context.Context, name string, typeID thrift.TMessageType, seqID int32) error {
	if s := &p.c.span; s.ProcessingEndNs == 0 {
		s.ProcessingEndNs = Now()
		p.c.t.outstanding.Add(-1)
		if typeID == thrift.EXCEPTION {
			s.Status = seerthrift.StatusCode_ERROR
			s.StatusMessage = "application exception"
		}
	}
	return p.TProtocol.WriteMessageBegin(ctx, name, typeID, seqID)
}

// ClientMiddleware returns a middleware that records a CLIENT span per call
// to peerService and sends the span's trace context to the server in the
// traceparent THeader (the client must use THeaderProtocol for the server to
// see it). The span is a child of the span in the call's context, if any.
func (t *Tracer) ClientMiddleware(peerService string) thrift.ClientMiddleware {
	return func(next thrift.TClient) thrift.TClient {
		return &tracingClient{t: t, peer: peerService, peerID: names.mustID(peerService), next: next}
	}
}

type tracingClient struct {
	t      *Tracer
	peer   string
	peerID uint32 // names id of peer
	next   thrift.TClient
}

func (c *tracingClient) Call(ctx context.Context, method string, args, result thrift.TStruct) (thrift.ResponseMeta, error) {
	cc := &clientCall{}
	s := &cc.span
	s.Kind = seerthrift.SpanKind_CLIENT
	s.Operation = method
	s.PeerService, s.peerID = c.peer, c.peerID
	if tid, sid, ok := parentFromContext(ctx); ok {
		s.TraceID, s.ParentSpanID = tid, sid
	} else {
		s.TraceID = newTraceID()
	}
	s.SpanID = newSpanID()
	ctx = cc.withTraceparent(ctx, s.TraceID, s.SpanID)

	s.ClientSendNs = Now()
	meta, err := c.next.Call(ctx, method, args, result)
	s.ClientReceiveNs = Now()

	if err == nil && c.t.statusFromResult && result != nil {
		if exc := thrift.ExtractExceptionFromResult(result); exc != nil {
			s.Status = seerthrift.StatusCode_ERROR
			s.StatusMessage = exc.Error()
		}
	}
	s.endStatus(err)
	c.t.sink.Record(s)
	return meta, err
}
