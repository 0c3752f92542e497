package nezha

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/seerattr"
)

// ScopeName is the instrumentation scope of replayed spans.
const ScopeName = "github.com/seer-qos/seer/replay/nezha"

// otlpBatcher turns spans into ptrace.Traces, one ResourceSpans per pod,
// and hands a batch on when it holds maxSpans spans or spans ending more
// than maxEventNs apart: a receiver regroups a batch by resource, so a
// batch must stay well within the processor's allowed lateness for the
// receiver to see spans in about their end order.
type otlpBatcher struct {
	flush      func(ptrace.Traces) error
	maxSpans   int
	maxEventNs int64
	td         ptrace.Traces
	res        map[string]ptrace.SpanSlice
	n          int
	firstEnd   int64
}

func newOTLPBatcher(flush func(ptrace.Traces) error, maxSpans int, maxEventNs int64) *otlpBatcher {
	b := &otlpBatcher{flush: flush, maxSpans: maxSpans, maxEventNs: maxEventNs}
	b.reset()
	return b
}

func (b *otlpBatcher) reset() {
	b.td = ptrace.NewTraces()
	b.res = map[string]ptrace.SpanSlice{}
	b.n = 0
}

// add converts and buffers one span.
func (b *otlpBatcher) add(sp *Span) error {
	if b.n > 0 && sp.End-b.firstEnd > b.maxEventNs {
		if err := b.Flush(); err != nil {
			return err
		}
	}
	ss, ok := b.res[sp.Pod]
	if !ok {
		rs := b.td.ResourceSpans().AppendEmpty()
		a := rs.Resource().Attributes()
		a.PutStr("service.name", sp.Service)
		a.PutStr("service.instance.id", sp.Pod)
		a.PutStr("k8s.pod.name", sp.Pod)
		sc := rs.ScopeSpans().AppendEmpty()
		sc.Scope().SetName(ScopeName)
		ss = sc.Spans()
		b.res[sp.Pod] = ss
	}
	s := ss.AppendEmpty()
	s.SetTraceID(pcommon.TraceID(sp.TraceID))
	s.SetSpanID(pcommon.SpanID(sp.SpanID))
	if !sp.Root {
		s.SetParentSpanID(pcommon.SpanID(sp.ParentID))
	}
	s.SetName(sp.Operation)
	s.SetKind(sp.Kind.ptrace())
	s.SetStartTimestamp(pcommon.Timestamp(sp.Start))
	s.SetEndTimestamp(pcommon.Timestamp(sp.End))
	if sp.Kind == KindClient {
		s.Attributes().PutStr(seerattr.PeerService, sp.Peer)
	}
	if b.n == 0 {
		b.firstEnd = sp.End
	}
	b.n++
	if b.n >= b.maxSpans {
		return b.Flush()
	}
	return nil
}

// Flush hands on the buffered spans.
func (b *otlpBatcher) Flush() error {
	if b.n == 0 {
		return nil
	}
	td := b.td
	b.reset()
	return b.flush(td)
}
