package sim

// Span kinds.
const (
	KindServer uint8 = 2
	KindClient uint8 = 3
)

// Span is one simulated span, in the shape of seer.thrift's Span. The
// SpanSink must copy what it keeps: the Span is reused after the call.
type Span struct {
	TraceID  [16]byte
	SpanID   uint64
	ParentID uint64 // 0 for a root span
	Kind     uint8
	// Service and Instance recorded the span; Operation is the RPC method;
	// Peer is the callee of a CLIENT span.
	Service, Instance, Operation, Peer string
	RequestType                        string
	// Start and End: arrival to reply (SERVER), send to reply read or
	// timeout (CLIENT); Unix ns.
	Start, End int64
	// ProcessingStart is when a worker took the request (SERVER).
	ProcessingStart int64
	// Outstanding is the software queue depth at arrival (SERVER).
	Outstanding int32
	Error       bool
}

// SpanSink receives spans.
type SpanSink interface {
	Span(*Span) error
}

// SpanFunc adapts a function to a SpanSink.
type SpanFunc func(*Span) error

// Span calls f(s).
func (f SpanFunc) Span(s *Span) error { return f(s) }

func (s *Sim) emitServer(v *visit) {
	sp := &s.spanBuf
	*sp = Span{
		TraceID: v.req.traceID, SpanID: v.spanID, ParentID: v.parentSpan, Kind: KindServer,
		Service: v.inst.svc.name, Instance: v.inst.name, Operation: v.op.name, RequestType: v.req.typ.name,
		Start: v.arrive, End: s.now, ProcessingStart: v.procStart, Outstanding: v.depth, Error: v.err,
	}
	if v.procStart == 0 {
		sp.ProcessingStart = v.arrive
	}
	if err := s.cfg.Spans.Span(sp); err != nil && s.err == nil {
		s.err = err
	}
}

func (s *Sim) emitClient(a *attempt, timedOut bool) {
	v := a.f.v
	sp := &s.spanBuf
	*sp = Span{
		TraceID: v.req.traceID, SpanID: a.spanID, ParentID: v.spanID, Kind: KindClient,
		Service: v.inst.svc.name, Instance: v.inst.name, Operation: a.f.n.call.op.name, Peer: a.callee.svc.name,
		RequestType: v.req.typ.name, Start: a.send, End: s.now, Error: timedOut || a.err,
	}
	if err := s.cfg.Spans.Span(sp); err != nil && s.err == nil {
		s.err = err
	}
}

// Tee returns a SpanSink that passes each span to every sink in order.
func Tee(sinks ...SpanSink) SpanSink {
	if len(sinks) == 1 {
		return sinks[0]
	}
	return tee(sinks)
}

type tee []SpanSink

func (t tee) Span(s *Span) error {
	for _, x := range t {
		if err := x.Span(s); err != nil {
			return err
		}
	}
	return nil
}
