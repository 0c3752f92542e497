package nezha

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/seerattr"
)

// ScopeName is the instrumentation scope of replayed spans.
const ScopeName = "github.com/seer-qos/seer/replay/nezha"

// toTraces converts a batch, grouped by pod (see batcher), into
// ptrace.Traces with one ResourceSpans per pod, in the batch's order.
func toTraces(spans []*Span) ptrace.Traces {
	td := ptrace.NewTraces()
	var ss ptrace.SpanSlice
	pod := ""
	for i, sp := range spans {
		if i == 0 || sp.Pod != pod {
			pod = sp.Pod
			rs := td.ResourceSpans().AppendEmpty()
			a := rs.Resource().Attributes()
			a.PutStr("service.name", sp.Service)
			a.PutStr("service.instance.id", sp.Pod)
			a.PutStr("k8s.pod.name", sp.Pod)
			sc := rs.ScopeSpans().AppendEmpty()
			sc.Scope().SetName(ScopeName)
			ss = sc.Spans()
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
	}
	return td
}
