package thrifttracing

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	"go.opentelemetry.io/otel/trace"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// wireBatch converts spans to the generated structs: the reference the
// direct encoder is tested against.
type wireBatch struct {
	batch seerthrift.SpanBatch
	ptrs  []*seerthrift.Span
	spans []seerthrift.Span
	ints  []int64
	i32s  []int32
	seq   int64
	drops int64
}

// fill converts spans to the wire format. The result refers to spans' ids
// and strings, so it must be sent before spans is reused.
func (w *wireBatch) fill(p *seerthrift.Process, spans []SpanData, seq, dropped int64) *seerthrift.SpanBatch {
	n := len(spans)
	if cap(w.spans) < n {
		w.spans = make([]seerthrift.Span, n)
		w.ptrs = make([]*seerthrift.Span, n)
		w.ints = make([]int64, 0, 4*n)
		w.i32s = make([]int32, 0, n)
	}
	// Pointers into ints and i32s stay valid: their capacity covers the
	// at most four timestamps and one count per span.
	out, slab, ints, i32s := w.ptrs[:n], w.spans[:n], w.ints[:0], w.i32s[:0]
	opt := func(v int64) *int64 {
		if v == 0 {
			return nil
		}
		ints = append(ints, v)
		return &ints[len(ints)-1]
	}
	for i := range spans {
		s := &spans[i]
		t := &slab[i]
		*t = seerthrift.Span{
			TraceID:   s.TraceID[:],
			SpanID:    s.SpanID[:],
			Operation: s.Operation,
			Kind:      s.Kind,
			Status:    s.Status,
		}
		if s.ParentSpanID.IsValid() {
			t.ParentSpanID = s.ParentSpanID[:]
		}
		if s.StatusMessage != "" {
			t.StatusMessage = &s.StatusMessage
		}
		if s.Kind == seerthrift.SpanKind_SERVER {
			t.ServerReceiveNs = opt(s.ServerReceiveNs)
			t.AppReceiveNs = opt(s.AppReceiveNs)
			t.ProcessingStartNs = opt(s.ProcessingStartNs)
			t.ProcessingEndNs = opt(s.ProcessingEndNs)
			i32s = append(i32s, s.OutstandingRequests)
			t.OutstandingRequests = &i32s[len(i32s)-1]
		} else {
			t.ClientSendNs = opt(s.ClientSendNs)
			t.ClientReceiveNs = opt(s.ClientReceiveNs)
			if s.PeerService != "" {
				t.PeerService = &s.PeerService
			}
		}
		out[i] = t
	}
	w.seq, w.drops = seq, dropped
	w.batch = seerthrift.SpanBatch{Process: p, Spans: out, SeqNo: &w.seq}
	if dropped > 0 {
		w.batch.DroppedSpans = &w.drops
	}
	return &w.batch
}

func TestDirectEncodingMatchesGenerated(t *testing.T) {
	process := &seerthrift.Process{ServiceName: "svc", Instance: "inst", Host: ptr("host")}
	mk := func(n int) []SpanData {
		spans := make([]SpanData, n)
		for i := range spans {
			s := testSpan(i, seerthrift.SpanKind(1+i%2))
			switch i % 5 {
			case 1:
				s.StatusMessage = ""
				s.PeerService = ""
			case 2:
				s.ParentSpanID = trace.SpanID{}
				s.ServerReceiveNs, s.ClientSendNs = 0, 0
			case 3:
				s.OutstandingRequests = 1 << 30
				s.ProcessingEndNs = math.MaxInt64
				s.ClientReceiveNs = -5
				s.Operation = strings.Repeat("x", 300)
			case 4:
				s.Status = seerthrift.StatusCode_UNSET
				s.StatusMessage = "ünïcode"
			}
			spans[i] = s
		}
		return spans
	}
	for _, tc := range []struct {
		n       int
		dropped int64
		process *seerthrift.Process
	}{
		{0, 0, process}, {1, 3, process}, {14, 0, process}, {15, 0, process}, {300, 1 << 40, process},
		{2, 0, &seerthrift.Process{ServiceName: "no-host", Instance: "i"}},
	} {
		spans := mk(tc.n)
		var ref wireBatch
		want := ref.fill(tc.process, spans, 42, tc.dropped)
		b := appendSubmitArgs(nil, encodeProcess(tc.process), spans, 42, tc.dropped)
		mem := thrift.NewTMemoryBufferLen(len(b))
		mem.Write(b)
		var got seerthrift.CollectorSubmitBatchArgs
		if err := got.Read(context.Background(), thrift.NewTCompactProtocolConf(mem, &thrift.TConfiguration{})); err != nil {
			t.Fatalf("%d spans: generated code cannot decode the direct encoding: %v", tc.n, err)
		}
		if mem.Len() != 0 {
			t.Errorf("%d spans: %d bytes left after the arguments", tc.n, mem.Len())
		}
		if !got.Batch.Equals(want) {
			t.Errorf("%d spans: decoded\n%v\nwant\n%v", tc.n, got.Batch, want)
		}
	}
}

// BenchmarkEncodeSpan is the export goroutine's cost per span, direct and
// through the generated structs.
func BenchmarkEncodeSpan(b *testing.B) {
	spans := make([]SpanData, 512)
	for i := range spans {
		spans[i] = testSpan(i, seerthrift.SpanKind(1+i%2))
	}
	p := &seerthrift.Process{ServiceName: "s", Instance: "i"}
	b.Run("direct", func(b *testing.B) {
		pb := encodeProcess(p)
		var buf []byte
		b.ReportAllocs()
		for i := 0; i < b.N; i += len(spans) {
			buf = appendSubmitArgs(buf[:0], pb, spans, 1, 0)
		}
	})
	b.Run("generated", func(b *testing.B) {
		var w wireBatch
		mem := thrift.NewTMemoryBuffer()
		proto := thrift.NewTCompactProtocolConf(mem, &thrift.TConfiguration{})
		ctx := context.Background()
		b.ReportAllocs()
		for i := 0; i < b.N; i += len(spans) {
			mem.Reset()
			if err := w.fill(p, spans, 1, 0).Write(ctx, proto); err != nil {
				b.Fatal(err)
			}
		}
	})
}
