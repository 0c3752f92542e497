package sim

import (
	"encoding/binary"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/seerattr"
)

// AttrRequestType names the simulated request type on spans.
const AttrRequestType = "seer.sim.request_type"

// otlpSpans batches spans into ptrace.Traces, one ResourceSpans per service
// instance in order of first appearance, and hands each full batch on.
type otlpSpans struct {
	flush func(ptrace.Traces) error
	limit int
	next  SpanSink
	td    ptrace.Traces
	n     int
	res   map[[2]string]ptrace.SpanSlice
}

func newOTLPSpans(flush func(ptrace.Traces) error, limit int, next SpanSink) *otlpSpans {
	if limit <= 0 {
		limit = 4096
	}
	o := &otlpSpans{flush: flush, limit: limit, next: next}
	o.reset()
	return o
}

// NewOTLPSink returns a SpanSink that converts spans to OTLP and calls flush
// with every batch of perBatch spans; call its Flush at the end.
func NewOTLPSink(flush func(ptrace.Traces) error, perBatch int) interface {
	SpanSink
	Flush() error
} {
	return newOTLPSpans(flush, perBatch, nil)
}

func (o *otlpSpans) reset() {
	o.td = ptrace.NewTraces()
	o.n = 0
	o.res = map[[2]string]ptrace.SpanSlice{}
}

func spanID(x uint64) pcommon.SpanID {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], x)
	return b
}

// Span converts and buffers one span.
func (o *otlpSpans) Span(sp *Span) error {
	k := [2]string{sp.Service, sp.Instance}
	ss, ok := o.res[k]
	if !ok {
		rs := o.td.ResourceSpans().AppendEmpty()
		a := rs.Resource().Attributes()
		a.PutStr("service.name", sp.Service)
		a.PutStr("service.instance.id", sp.Instance)
		sc := rs.ScopeSpans().AppendEmpty()
		sc.Scope().SetName("github.com/seer-qos/seer/sim")
		ss = sc.Spans()
		o.res[k] = ss
	}
	s := ss.AppendEmpty()
	s.SetTraceID(sp.TraceID)
	s.SetSpanID(spanID(sp.SpanID))
	if sp.ParentID != 0 {
		s.SetParentSpanID(spanID(sp.ParentID))
	}
	s.SetName(sp.Operation)
	s.SetStartTimestamp(pcommon.Timestamp(sp.Start))
	s.SetEndTimestamp(pcommon.Timestamp(sp.End))
	if sp.Error {
		s.Status().SetCode(ptrace.StatusCodeError)
	} else {
		s.Status().SetCode(ptrace.StatusCodeOk)
	}
	a := s.Attributes()
	a.PutStr(seerattr.RPCSystem, "thrift")
	a.PutStr(seerattr.RPCMethod, sp.Operation)
	a.PutStr(AttrRequestType, sp.RequestType)
	if sp.Kind == KindServer {
		s.SetKind(ptrace.SpanKindServer)
		a.PutInt(seerattr.ServerReceive, sp.Start)
		a.PutInt(seerattr.AppReceive, sp.Start)
		a.PutInt(seerattr.ProcessingStart, sp.ProcessingStart)
		a.PutInt(seerattr.ProcessingEnd, sp.End)
		a.PutInt(seerattr.OutstandingRequests, int64(sp.Outstanding))
	} else {
		s.SetKind(ptrace.SpanKindClient)
		a.PutInt(seerattr.ClientSend, sp.Start)
		a.PutInt(seerattr.ClientReceive, sp.End)
		a.PutStr(seerattr.PeerService, sp.Peer)
	}
	o.n++
	if o.n >= o.limit {
		if err := o.Flush(); err != nil {
			return err
		}
	}
	if o.next != nil {
		return o.next.Span(sp)
	}
	return nil
}

// Flush hands on the buffered spans.
func (o *otlpSpans) Flush() error {
	if o.n == 0 {
		return nil
	}
	td := o.td
	o.reset()
	return o.flush(td)
}
