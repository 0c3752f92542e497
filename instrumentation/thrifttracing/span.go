package thrifttracing

import (
	"context"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// SpanData is one recorded span. Timestamps are Unix nanoseconds and 0 means
// "not recorded"; see idl/seer.thrift for their exact meaning.
type SpanData struct {
	TraceID      trace.TraceID
	SpanID       trace.SpanID
	ParentSpanID trace.SpanID // zero for a root span
	Operation    string
	Kind         seerthrift.SpanKind

	ClientSendNs      int64 // CLIENT
	ServerReceiveNs   int64 // SERVER
	AppReceiveNs      int64 // SERVER
	ProcessingStartNs int64 // SERVER
	ProcessingEndNs   int64 // SERVER
	ClientReceiveNs   int64 // CLIENT

	// OutstandingRequests is, on SERVER spans, the number of requests already
	// in progress at the instance when this one arrived, not counting itself.
	OutstandingRequests int32

	Status        seerthrift.StatusCode
	StatusMessage string
	PeerService   string // CLIENT: the service called

	// opID and peerID are the names ids of Operation and PeerService,
	// when the Tracer knows them (see names); zero otherwise.
	opID, peerID uint32
}

// endStatus sets the status of a finished call: ERROR with err's message if
// the call failed, else OK unless the span already has a status.
func (s *SpanData) endStatus(err error) {
	if err != nil {
		s.Status = seerthrift.StatusCode_ERROR
		s.StatusMessage = err.Error()
	} else if s.Status == seerthrift.StatusCode_UNSET {
		s.Status = seerthrift.StatusCode_OK
	}
}

// SpanSink receives finished spans. Record is called on the RPC path, so it
// must not block; it must not keep s after it returns (s is reused).
type SpanSink interface {
	Record(s *SpanData)
}

// clockBase anchors Now: time.Since on a monotonic reading is one vDSO call
// (time.Now is two), and timestamps taken in this process stay ordered even
// if the wall clock is stepped.
var (
	clockBase   = time.Now()
	clockBaseNs = clockBase.UnixNano()
)

// Now returns the current time as Unix nanoseconds from the clock every span
// of this process uses; handlers that record their own timestamps should use
// it so that they order correctly against the spans.
func Now() int64 {
	return clockBaseNs + int64(time.Since(clockBase))
}

// newTraceID returns a random, valid W3C trace id. The ids only need to be
// unique, so the runtime's fast per-thread generator is enough.
func newTraceID() trace.TraceID {
	var id trace.TraceID
	for {
		a, b := rand.Uint64(), rand.Uint64()
		if a|b == 0 {
			continue
		}
		putUint64(id[:8], a)
		putUint64(id[8:], b)
		return id
	}
}

// newSpanID returns a random, valid (non-zero) span id.
func newSpanID() trace.SpanID {
	var id trace.SpanID
	a := rand.Uint64()
	for a == 0 {
		a = rand.Uint64()
	}
	putUint64(id[:], a)
	return id
}

func putUint64(b []byte, v uint64) {
	_ = b[7]
	b[0] = byte(v >> 56)
	b[1] = byte(v >> 48)
	b[2] = byte(v >> 40)
	b[3] = byte(v >> 32)
	b[4] = byte(v >> 24)
	b[5] = byte(v >> 16)
	b[6] = byte(v >> 8)
	b[7] = byte(v)
}

// ctxKey finds the current server call in a handler's context.
type ctxKey struct{}

// SpanContextFromContext returns the span a handler runs in: the server span
// of a traced request, else any OpenTelemetry span context in ctx. Client
// calls made with ctx become its children.
func SpanContextFromContext(ctx context.Context) trace.SpanContext {
	if c, ok := ctx.Value(ctxKey{}).(*serverCall); ok {
		return trace.NewSpanContext(trace.SpanContextConfig{
			TraceID:    c.span.TraceID,
			SpanID:     c.span.SpanID,
			TraceFlags: trace.FlagsSampled,
		})
	}
	return trace.SpanContextFromContext(ctx)
}

// parentFromContext is SpanContextFromContext without building a SpanContext
// on the common path.
func parentFromContext(ctx context.Context) (trace.TraceID, trace.SpanID, bool) {
	if c, ok := ctx.Value(ctxKey{}).(*serverCall); ok {
		return c.span.TraceID, c.span.SpanID, true
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc.TraceID(), sc.SpanID(), true
	}
	return trace.TraceID{}, trace.SpanID{}, false
}

// MarkProcessingStart records that a worker started on the request handled
// under ctx, for services that queue requests before working on them; by
// default processing starts when the arguments are decoded. Call it from the
// handler (or a worker the handler waits for) before the handler returns. It
// does nothing outside a traced request.
func MarkProcessingStart(ctx context.Context) {
	if c, ok := ctx.Value(ctxKey{}).(*serverCall); ok {
		c.span.ProcessingStartNs = Now()
	}
}
