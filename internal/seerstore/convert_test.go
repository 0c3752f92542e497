package seerstore

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/seerattr"
)

func oneSpan() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "text")
	rs.Resource().Attributes().PutStr("host.name", "node-1")
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID{1})
	sp.SetSpanID(pcommon.SpanID{2})
	sp.SetParentSpanID(pcommon.SpanID{3})
	sp.SetName("read")
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
	sp.Attributes().PutInt(seerattr.OutstandingRequests, 4)
	sp.Attributes().PutDouble(seerattr.NICQueueDepth, 2)
	sp.Attributes().PutInt(seerattr.AppReceive, now.UnixNano()+10)
	sp.Attributes().PutStr(seerattr.PeerService, "store")
	return td
}

func TestFromTracesLiftsSeerFields(t *testing.T) {
	td := oneSpan()
	v := FromTraces(td, DefaultLimits(), time.Date(2026, 5, 1, 0, 0, 1, 0, time.UTC))
	require.NoError(t, v.Err())
	require.Len(t, v.Spans, 1)
	s := v.Spans[0]
	assert.Equal(t, "text", s.Service)
	assert.Equal(t, "node-1", s.Instance)
	assert.Equal(t, int64(4), s.OutstandingRequests)
	assert.Equal(t, int64(2), s.NICQueueDepth)
	assert.Equal(t, "store", s.PeerService)
	assert.Equal(t, SpanID{3}, s.ParentSpanID)
	assert.Zero(t, s.ClientSendNs)
	back, err := ToTraces(v.Spans)
	require.NoError(t, err)
	assert.Equal(t, td, back, "Raw is lossless")
	s.Raw = nil
	back, err = ToTraces([]Span{s})
	require.NoError(t, err)
	got := back.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	assert.Equal(t, int64(4), func() int64 { v, _ := got.Attributes().Get(seerattr.OutstandingRequests); return v.Int() }())
}

func TestFromTracesMissingService(t *testing.T) {
	td := oneSpan()
	td.ResourceSpans().At(0).Resource().Attributes().Remove("service.name")
	v := FromTraces(td, DefaultLimits(), time.Date(2026, 5, 1, 0, 0, 1, 0, time.UTC))
	require.Len(t, v.Spans, 1)
	assert.Equal(t, UnknownService, v.Spans[0].Service)
	assert.Equal(t, Counts{RepairNoService: 1}, v.Repaired)
}

func TestFromMetrics(t *testing.T) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "text")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	g := ms.AppendEmpty()
	g.SetName("seer.queue.outstanding_requests")
	dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(5)
	dp.SetDoubleValue(2.5)
	dp.Attributes().PutStr("service.instance.id", "text-1")
	h := ms.AppendEmpty()
	h.SetName("seer.queue.latency")
	h.SetEmptyHistogram().DataPoints().AppendEmpty()
	other := ms.AppendEmpty()
	other.SetName("http.server.duration")
	other.SetEmptyGauge().DataPoints().AppendEmpty().SetTimestamp(1)
	pts, skipped := FromMetrics(md, "seer.queue.")
	assert.Equal(t, []SeriesPoint{{Service: "text", Instance: "text-1", Metric: "seer.queue.outstanding_requests", TsNs: 5, Value: 2.5}}, pts)
	assert.Equal(t, 1, skipped)
}

func TestTruncateUTF8(t *testing.T) {
	assert.Equal(t, "ab", truncateUTF8("abc", 2))
	assert.Equal(t, "a", truncateUTF8("a\u00e9", 2), "never split a rune")
	assert.Equal(t, "abc", truncateUTF8("abc", 5))
}

// FuzzFromTraces feeds arbitrary OTLP protobuf to the conversion: it must not panic, every stored
// span must have valid ids and valid UTF-8 text, and its Raw must decode.
func FuzzFromTraces(f *testing.F) {
	var m ptrace.ProtoMarshaler
	seed, _ := m.MarshalTraces(oneSpan())
	f.Add(seed)
	bad := oneSpan()
	bad.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetName("x\xff")
	seed, _ = m.MarshalTraces(bad)
	f.Add(seed)
	f.Add([]byte{})
	now := time.Date(2026, 5, 1, 0, 0, 1, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		var um ptrace.ProtoUnmarshaler
		td, err := um.UnmarshalTraces(b)
		if err != nil {
			return
		}
		lim := DefaultLimits()
		lim.MaxAttributeBytes = 64
		v := FromTraces(td, lim, now)
		if len(v.Spans)+v.Rejected.Total() != td.SpanCount() {
			t.Fatalf("%d stored + %d rejected != %d spans", len(v.Spans), v.Rejected.Total(), td.SpanCount())
		}
		for _, s := range v.Spans {
			if s.TraceID.IsZero() || s.SpanID.IsZero() || s.EndNs < s.StartNs {
				t.Fatalf("invalid span stored: %+v", s)
			}
			for _, str := range []string{s.Service, s.Instance, s.Name, s.StatusMessage, s.PeerService, s.RPCMethod} {
				if !utf8.ValidString(str) {
					t.Fatalf("invalid UTF-8 stored: %q", str)
				}
			}
			if len(s.Raw) > lim.MaxSpanBytes {
				t.Fatalf("span of %d bytes stored", len(s.Raw))
			}
		}
		if _, err := ToTraces(v.Spans); err != nil {
			t.Fatalf("stored Raw does not decode: %v", err)
		}
	})
}

// FuzzToTraces decodes arbitrary Raw bytes: an error or traces, never a panic.
func FuzzToTraces(f *testing.F) {
	var m ptrace.ProtoMarshaler
	seed, _ := m.MarshalTraces(oneSpan())
	f.Add(seed)
	f.Add([]byte{0x0a, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ToTraces([]Span{{Raw: b}})
	})
}
