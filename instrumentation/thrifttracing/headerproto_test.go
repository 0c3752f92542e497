package thrifttracing

import (
	"bytes"
	"context"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// TestHeaderProtocolStack runs the span tests over every pairing of
// thrift's THeader and HeaderProtocol: the spans must be the same.
func TestHeaderProtocolStack(t *testing.T) {
	tests := []struct {
		name string
		f    func(*testing.T)
	}{
		{"ServerAndClientSpans", TestServerAndClientSpans},
		{"ProcessingStartDefaultsToAppReceive", TestProcessingStartDefaultsToAppReceive},
		{"ErrorStatus", TestErrorStatus},
		{"PropagationAcrossTwoHops", TestPropagationAcrossTwoHops},
		{"ServerWithoutTraceparentStartsTrace", TestServerWithoutTraceparentStartsTrace},
		{"OutstandingCountsConcurrentArrivals", TestOutstandingCountsConcurrentArrivals},
		{"ReplyEndsOutstanding", TestReplyEndsOutstanding},
	}
	defer func() { leanServer, leanClient = false, false }()
	for _, stack := range []struct {
		name           string
		server, client bool
	}{{"lean-server", true, false}, {"lean-client", false, true}, {"lean-both", true, true}} {
		leanServer, leanClient = stack.server, stack.client
		for _, tc := range tests {
			t.Run(stack.name+"/"+tc.name, tc.f)
		}
	}
}

// headerEcho is a Collector whose reply says what traceparent header the
// server saw (in AcceptedSpans: 1 if it matched want).
func stockTHeaderServer(t *testing.T, handler collectorFunc) string {
	t.Helper()
	saved := leanServer
	leanServer = false
	defer func() { leanServer = saved }()
	return startTHeaderServer(t, seerthrift.NewCollectorProcessor(handler))
}

// TestHeaderProtocolInterop checks HeaderProtocol against thrift's own
// THeader and the other dialects a THeader server accepts.
func TestHeaderProtocolInterop(t *testing.T) {
	const tp = "00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01"
	withHeaders := func(kv ...string) context.Context {
		ctx := context.Background()
		var keys []string
		for i := 0; i < len(kv); i += 2 {
			ctx = thrift.SetHeader(ctx, kv[i], kv[i+1])
			keys = append(keys, kv[i])
		}
		return thrift.SetWriteHeaderList(ctx, keys)
	}

	t.Run("client to thrift server", func(t *testing.T) {
		for _, conf := range []*thrift.TConfiguration{
			{},
			{THeaderProtocolID: thrift.THeaderProtocolIDPtrMust(thrift.THeaderProtocolCompact)},
			{THeaderTransforms: []thrift.THeaderTransformID{thrift.TransformZlib}},
		} {
			got := make(chan map[string]string, 8)
			addr := stockTHeaderServer(t, func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
				h := map[string]string{}
				for _, k := range thrift.GetReadHeaderList(ctx) {
					h[k], _ = thrift.GetHeader(ctx, k)
				}
				got <- h
				return &seerthrift.SubmitResult_{AcceptedSpans: int32(len(b.Spans))}, nil
			})
			sock := thrift.NewTSocketConf(addr, conf)
			if err := sock.Open(); err != nil {
				t.Fatal(err)
			}
			p := NewHeaderProtocol(sock, conf)
			sink := newRecordingSink()
			traced := seerthrift.NewCollectorClient(thrift.WrapClient(thrift.NewTStandardClient(p, p), NewTracer("c", sink).ClientMiddleware("s")))
			plain := seerthrift.NewCollectorClient(thrift.NewTStandardClient(p, p))
			for i := range 3 { // several calls on one connection
				batch := oneSpanBatch()
				for range i * 1000 { // and bodies that compress
					batch.Spans = append(batch.Spans, &seerthrift.Span{Operation: "op"})
				}
				res, err := traced.SubmitBatch(context.Background(), batch)
				if err != nil || res.AcceptedSpans != int32(i*1000) {
					t.Fatalf("traced call %d: %v %v", i, res, err)
				}
				s := sink.take(t, 1)[0]
				var want [traceparentLen]byte
				formatTraceparent(&want, s.TraceID, s.SpanID)
				if h := <-got; len(h) != 1 || h[TraceparentHeader] != string(want[:]) {
					t.Errorf("server saw headers %v, want traceparent %s", h, want)
				}
				if _, err := plain.SubmitBatch(withHeaders("a", "1", TraceparentHeader, tp, "bb", ""), batch); err != nil {
					t.Fatal(err)
				}
				if h := <-got; len(h) != 3 || h["a"] != "1" || h[TraceparentHeader] != tp || h["bb"] != "" {
					t.Errorf("server saw headers %v", h)
				}
				if _, err := plain.SubmitBatch(context.Background(), batch); err != nil {
					t.Fatal(err)
				}
				if h := <-got; len(h) != 0 {
					t.Errorf("server saw headers %v, want none", h)
				}
			}
			_ = p.Transport().Close()
		}
	})

	t.Run("server to other clients", func(t *testing.T) {
		sink := newRecordingSink()
		saved := leanServer
		leanServer = true
		addr := startTHeaderServer(t, NewTracer("s", sink).WrapProcessor(seerthrift.NewCollectorProcessor(collectorFunc(accept))))
		leanServer = saved
		conf := &thrift.TConfiguration{}
		header := func(c *thrift.TConfiguration) func(thrift.TTransport) thrift.TProtocol {
			return func(s thrift.TTransport) thrift.TProtocol { return thrift.NewTHeaderProtocolConf(s, c) }
		}
		for _, client := range []struct {
			name      string
			proto     func(thrift.TTransport) thrift.TProtocol
			carriesTP bool
		}{
			{"theader binary", header(conf), true},
			{"theader compact", header(&thrift.TConfiguration{THeaderProtocolID: thrift.THeaderProtocolIDPtrMust(thrift.THeaderProtocolCompact)}), true},
			{"theader zlib", header(&thrift.TConfiguration{THeaderTransforms: []thrift.THeaderTransformID{thrift.TransformZlib}}), true},
			{"framed binary", func(s thrift.TTransport) thrift.TProtocol {
				return thrift.NewTBinaryProtocolConf(thrift.NewTFramedTransportConf(s, conf), conf)
			}, false},
			{"framed compact", func(s thrift.TTransport) thrift.TProtocol {
				return thrift.NewTCompactProtocolConf(thrift.NewTFramedTransportConf(s, conf), conf)
			}, false},
			{"unframed binary", func(s thrift.TTransport) thrift.TProtocol {
				return thrift.NewTBinaryProtocolConf(thrift.NewTBufferedTransport(s, 4096), conf)
			}, false},
			{"unframed compact", func(s thrift.TTransport) thrift.TProtocol {
				return thrift.NewTCompactProtocolConf(thrift.NewTBufferedTransport(s, 4096), conf)
			}, false},
		} {
			t.Run(client.name, func(t *testing.T) {
				sock := thrift.NewTSocketConf(addr, conf)
				if err := sock.Open(); err != nil {
					t.Fatal(err)
				}
				defer sock.Close()
				p := client.proto(sock)
				c := seerthrift.NewCollectorClient(thrift.NewTStandardClient(p, p))
				for i := range 3 {
					batch := oneSpanBatch()
					for range i * 1000 {
						batch.Spans = append(batch.Spans, &seerthrift.Span{Operation: "op"})
					}
					res, err := c.SubmitBatch(withHeaders("x", "y", TraceparentHeader, tp), batch)
					if err != nil || res.AcceptedSpans != int32(i*1000) {
						t.Fatalf("call %d: %v %v", i, res, err)
					}
					s := sink.take(t, 1)[0]
					var parent [traceparentLen]byte
					formatTraceparent(&parent, s.TraceID, s.ParentSpanID)
					if continued := string(parent[:]) == tp; continued != client.carriesTP {
						t.Errorf("server span trace %v parent %v: continued %v, want %v", s.TraceID, s.ParentSpanID, continued, client.carriesTP)
					}
				}
			})
		}
	})
}

// headerFrame builds a THeader frame as thrift's client writes it.
func headerFrame(t testing.TB, conf *thrift.TConfiguration, headers ...string) []byte {
	t.Helper()
	buf := thrift.NewTMemoryBuffer()
	p := thrift.NewTHeaderProtocolConf(buf, conf)
	for i := 0; i < len(headers); i += 2 {
		p.SetWriteHeader(headers[i], headers[i+1])
	}
	ctx := context.Background()
	if err := p.WriteMessageBegin(ctx, "submitBatch", thrift.CALL, 7); err != nil {
		t.Fatal(err)
	}
	_ = (&seerthrift.CollectorSubmitBatchArgs{Batch: oneSpanBatch()}).Write(ctx, p)
	if err := p.WriteMessageEnd(ctx); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// FuzzHeaderFrame reads arbitrary bytes as a request with HeaderProtocol
// and with thrift's THeaderProtocol: HeaderProtocol must not panic, and when
// thrift reads a THeader frame, HeaderProtocol reads the same traceparent
// ids and message header.
func FuzzHeaderFrame(f *testing.F) {
	const tp = "00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01"
	for _, conf := range []*thrift.TConfiguration{{}, {THeaderTransforms: []thrift.THeaderTransformID{thrift.TransformZlib}}} {
		f.Add(headerFrame(f, conf))
		f.Add(headerFrame(f, conf, TraceparentHeader, tp))
		f.Add(headerFrame(f, conf, "a", "b", TraceparentHeader, tp, "c", ""))
		f.Add(headerFrame(f, conf, TraceparentHeader, "00-zz"))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		ctx := context.Background()
		conf := &thrift.TConfiguration{MaxFrameSize: 1 << 20}
		lean := NewHeaderProtocol(&memConn{in: bytes.NewBuffer(frame), out: new(bytes.Buffer), onFlush: noFlush}, conf)
		lname, _, lseq, lerr := lean.ReadMessageBegin(ctx)

		stock := thrift.NewTHeaderProtocolConf(&memConn{in: bytes.NewBuffer(frame), out: new(bytes.Buffer), onFlush: noFlush}, conf)
		if err := stock.ReadFrame(ctx); err != nil {
			return
		}
		if stock.Transport().(*thrift.THeaderTransport).Protocol() != thrift.THeaderProtocolBinary ||
			len(frame) < 8 || frame[4] != 0x0f || frame[5] != 0xff {
			return // only compare THeader frames of binary messages
		}
		name, _, seq, err := stock.ReadMessageBegin(ctx)
		if err != nil {
			return
		}
		if lerr != nil && lean.t.readZlib {
			// HeaderProtocol inflates the whole payload first, so it
			// refuses corrupt compressed data that thrift, inflating as
			// it reads, may not reach.
			return
		}
		if lerr != nil || lname != name || lseq != seq {
			t.Fatalf("thrift read %q %d, HeaderProtocol %q %d %v", name, seq, lname, lseq, lerr)
		}
		h := stock.GetReadHeaders()
		wt, ws, wok := parseTraceparent(h[TraceparentHeader])
		if gt, gs, gok := lean.t.traceparent(); gt != wt || gs != ws || gok != wok {
			t.Fatalf("traceparent %q: HeaderProtocol %v %v %v", h[TraceparentHeader], gt, gs, gok)
		}
	})
}
