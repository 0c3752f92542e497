package seerstore

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/seerattr"
)

const (
	attrServiceName     = "service.name"
	attrServiceInstance = "service.instance.id"
	attrHostName        = "host.name"
	// UnknownService is the service of spans whose resource has no service.name, as the
	// OpenTelemetry SDKs name it.
	UnknownService = "unknown_service"
	truncMarker    = "...[truncated]"
)

type spanKey struct {
	t TraceID
	s SpanID
}

// FromTraces converts a request into storable spans. It never fails as a whole: spans with zero
// ids, timestamps out of range (unset, end before start, before MinStartTime, beyond now plus
// MaxFutureSkew, longer than MaxDuration), an encoded size above MaxSpanBytes, or an id already
// seen in the request are left out and counted in Rejected; invalid UTF-8, over-long attribute
// values and a missing service.name are repaired and counted in Repaired. td is not modified.
func FromTraces(td ptrace.Traces, lim Limits, now time.Time) Verdict {
	var v Verdict
	v.Spans = make([]Span, 0, td.SpanCount())
	seen := make(map[spanKey]struct{}, td.SpanCount())
	minStart := MinStartTime.UnixNano()
	maxStart := now.Add(lim.MaxFutureSkew).UnixNano()
	var marshaler ptrace.ProtoMarshaler
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			for k := 0; k < ss.Spans().Len(); k++ {
				sp := ss.Spans().At(k)
				key := spanKey{TraceID(sp.TraceID()), SpanID(sp.SpanID())}
				start, end := int64(sp.StartTimestamp()), int64(sp.EndTimestamp())
				switch {
				case key.t.IsZero():
					v.reject(RejectZeroTraceID, "span %q has an all-zero trace id", clip(sp.Name()))
					continue
				case key.s.IsZero():
					v.reject(RejectZeroSpanID, "span %q of trace %s has an all-zero span id", clip(sp.Name()), key.t)
					continue
				case start < minStart || start > maxStart:
					v.reject(RejectTimestamp, "span %s/%s starts at %d ns, outside [%s, now+%s]",
						key.t, key.s, start, MinStartTime.Format(time.RFC3339), lim.MaxFutureSkew)
					continue
				case end < start || time.Duration(end-start) > lim.MaxDuration:
					v.reject(RejectTimestamp, "span %s/%s ends at %d ns, start %d ns (max duration %s)",
						key.t, key.s, end, start, lim.MaxDuration)
					continue
				}
				if _, dup := seen[key]; dup {
					v.reject(RejectDuplicate, "span %s/%s appears twice in one request", key.t, key.s)
					continue
				}
				one := isolate(rs, ss, sp)
				fx := fixer{max: lim.MaxAttributeBytes}
				fx.fixAll(one)
				raw, err := marshaler.MarshalTraces(one)
				if err != nil {
					v.reject(RejectTooLarge, "span %s/%s cannot be encoded: %v", key.t, key.s, err)
					continue
				}
				if lim.MaxSpanBytes > 0 && len(raw) > lim.MaxSpanBytes {
					v.reject(RejectTooLarge, "span %s/%s is %d bytes encoded, limit %d", key.t, key.s, len(raw), lim.MaxSpanBytes)
					continue
				}
				seen[key] = struct{}{}
				if fx.utf8 {
					v.repair(RepairInvalidUTF8)
				}
				if fx.truncated {
					v.repair(RepairTruncated)
				}
				// Read the repaired copy, so that stored strings are valid UTF-8.
				ors := one.ResourceSpans().At(0)
				osp := ors.ScopeSpans().At(0).Spans().At(0)
				s := Span{
					TraceID: key.t, SpanID: key.s, ParentSpanID: SpanID(osp.ParentSpanID()),
					Name: osp.Name(), Kind: int8(osp.Kind()), StartNs: start, EndNs: end,
					StatusCode: int8(osp.Status().Code()), StatusMessage: osp.Status().Message(),
					Raw: raw,
				}
				s.Service, s.Instance = serviceOf(ors.Resource().Attributes())
				if s.Service == "" {
					s.Service = UnknownService
					v.repair(RepairNoService)
				}
				liftSeer(&s, osp.Attributes())
				v.Spans = append(v.Spans, s)
			}
		}
	}
	return v
}

// isolate copies one span with its resource and scope into a Traces of its own.
func isolate(rs ptrace.ResourceSpans, ss ptrace.ScopeSpans, sp ptrace.Span) ptrace.Traces {
	out := ptrace.NewTraces()
	ors := out.ResourceSpans().AppendEmpty()
	ors.SetSchemaUrl(rs.SchemaUrl())
	rs.Resource().CopyTo(ors.Resource())
	oss := ors.ScopeSpans().AppendEmpty()
	oss.SetSchemaUrl(ss.SchemaUrl())
	ss.Scope().CopyTo(oss.Scope())
	sp.CopyTo(oss.Spans().AppendEmpty())
	return out
}

func serviceOf(res pcommon.Map) (service, instance string) {
	if v, ok := res.Get(attrServiceName); ok {
		service = v.AsString()
	}
	if v, ok := res.Get(attrServiceInstance); ok {
		instance = v.AsString()
	} else if v, ok := res.Get(attrHostName); ok {
		instance = v.AsString()
	}
	return service, instance
}

func liftSeer(s *Span, attrs pcommon.Map) {
	s.ServerReceiveNs = intAttr(attrs, seerattr.ServerReceive, 0)
	s.AppReceiveNs = intAttr(attrs, seerattr.AppReceive, 0)
	s.ProcessingStartNs = intAttr(attrs, seerattr.ProcessingStart, 0)
	s.ProcessingEndNs = intAttr(attrs, seerattr.ProcessingEnd, 0)
	s.ClientSendNs = intAttr(attrs, seerattr.ClientSend, 0)
	s.ClientReceiveNs = intAttr(attrs, seerattr.ClientReceive, 0)
	s.OutstandingRequests = intAttr(attrs, seerattr.OutstandingRequests, NoDepth)
	s.NICQueueDepth = intAttr(attrs, seerattr.NICQueueDepth, NoDepth)
	if v, ok := attrs.Get(seerattr.PeerService); ok {
		s.PeerService = v.AsString()
	}
	if v, ok := attrs.Get(seerattr.RPCMethod); ok {
		s.RPCMethod = v.AsString()
	}
}

func intAttr(attrs pcommon.Map, key string, absent int64) int64 {
	v, ok := attrs.Get(key)
	if !ok {
		return absent
	}
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		return int64(v.Double())
	default:
		return absent
	}
}

// fixer repairs strings in place: invalid UTF-8 becomes U+FFFD, long values are truncated.
type fixer struct {
	max       int
	utf8      bool
	truncated bool
}

func (f *fixer) str(s string) (string, bool) {
	if utf8.ValidString(s) {
		return s, false
	}
	f.utf8 = true
	return strings.ToValidUTF8(s, "\uFFFD"), true
}

func (f *fixer) fixAll(td ptrace.Traces) {
	rs := td.ResourceSpans().At(0)
	f.fixMap(rs.Resource().Attributes())
	ss := rs.ScopeSpans().At(0)
	if s, ch := f.str(ss.Scope().Name()); ch {
		ss.Scope().SetName(s)
	}
	if s, ch := f.str(ss.Scope().Version()); ch {
		ss.Scope().SetVersion(s)
	}
	f.fixMap(ss.Scope().Attributes())
	sp := ss.Spans().At(0)
	if s, ch := f.str(sp.Name()); ch {
		sp.SetName(s)
	}
	if s, ch := f.str(sp.Status().Message()); ch {
		sp.Status().SetMessage(s)
	}
	if s, ch := f.str(sp.TraceState().AsRaw()); ch {
		sp.TraceState().FromRaw(s)
	}
	f.fixMap(sp.Attributes())
	for i := 0; i < sp.Events().Len(); i++ {
		e := sp.Events().At(i)
		if s, ch := f.str(e.Name()); ch {
			e.SetName(s)
		}
		f.fixMap(e.Attributes())
	}
	for i := 0; i < sp.Links().Len(); i++ {
		l := sp.Links().At(i)
		if s, ch := f.str(l.TraceState().AsRaw()); ch {
			l.TraceState().FromRaw(s)
		}
		f.fixMap(l.Attributes())
	}
}

func (f *fixer) fixMap(m pcommon.Map) {
	var badKeys []string
	m.Range(func(k string, v pcommon.Value) bool {
		if !utf8.ValidString(k) {
			badKeys = append(badKeys, k)
		}
		f.fixValue(v)
		return true
	})
	for _, k := range badKeys {
		v, _ := m.Get(k)
		nk, _ := f.str(k)
		v.CopyTo(m.PutEmpty(nk))
		m.Remove(k)
	}
}

func (f *fixer) fixValue(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s, ch := f.str(v.Str())
		if f.max > 0 && len(s) > f.max {
			s = truncateUTF8(s, f.max) + truncMarker
			f.truncated, ch = true, true
		}
		if ch {
			v.SetStr(s)
		}
	case pcommon.ValueTypeBytes:
		if f.max > 0 && v.Bytes().Len() > f.max {
			v.Bytes().FromRaw(v.Bytes().AsRaw()[:f.max])
			f.truncated = true
		}
	case pcommon.ValueTypeMap:
		f.fixMap(v.Map())
	case pcommon.ValueTypeSlice:
		for i := 0; i < v.Slice().Len(); i++ {
			f.fixValue(v.Slice().At(i))
		}
	}
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > 64 {
		return truncateUTF8(s, 64) + "..."
	}
	return s
}

// ToTraces rebuilds pdata from stored spans: from Raw when present (lossless), else from the typed
// fields. It fails only on a corrupt Raw.
func ToTraces(spans []Span) (ptrace.Traces, error) {
	out := ptrace.NewTraces()
	var um ptrace.ProtoUnmarshaler
	for i := range spans {
		s := &spans[i]
		if len(s.Raw) > 0 {
			one, err := um.UnmarshalTraces(s.Raw)
			if err != nil {
				return out, fmt.Errorf("decoding span %s/%s: %w", s.TraceID, s.SpanID, err)
			}
			one.ResourceSpans().MoveAndAppendTo(out.ResourceSpans())
			continue
		}
		rs := out.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr(attrServiceName, s.Service)
		if s.Instance != "" {
			rs.Resource().Attributes().PutStr(attrServiceInstance, s.Instance)
		}
		sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetTraceID(pcommon.TraceID(s.TraceID))
		sp.SetSpanID(pcommon.SpanID(s.SpanID))
		sp.SetParentSpanID(pcommon.SpanID(s.ParentSpanID))
		sp.SetName(s.Name)
		sp.SetKind(ptrace.SpanKind(s.Kind))
		sp.SetStartTimestamp(pcommon.Timestamp(s.StartNs))
		sp.SetEndTimestamp(pcommon.Timestamp(s.EndNs))
		sp.Status().SetCode(ptrace.StatusCode(s.StatusCode))
		sp.Status().SetMessage(s.StatusMessage)
		a := sp.Attributes()
		for _, kv := range []struct {
			k string
			v int64
		}{
			{seerattr.ServerReceive, s.ServerReceiveNs}, {seerattr.AppReceive, s.AppReceiveNs},
			{seerattr.ProcessingStart, s.ProcessingStartNs}, {seerattr.ProcessingEnd, s.ProcessingEndNs},
			{seerattr.ClientSend, s.ClientSendNs}, {seerattr.ClientReceive, s.ClientReceiveNs},
		} {
			if kv.v != 0 {
				a.PutInt(kv.k, kv.v)
			}
		}
		if s.OutstandingRequests != NoDepth {
			a.PutInt(seerattr.OutstandingRequests, s.OutstandingRequests)
		}
		if s.NICQueueDepth != NoDepth {
			a.PutInt(seerattr.NICQueueDepth, s.NICQueueDepth)
		}
		if s.PeerService != "" {
			a.PutStr(seerattr.PeerService, s.PeerService)
		}
		if s.RPCMethod != "" {
			a.PutStr(seerattr.RPCMethod, s.RPCMethod)
		}
	}
	return out, nil
}
