package thrifttracing

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// The RPC benchmarks compare the same Thrift call (Collector.submitBatch
// with an empty batch: the smallest request, so the worst case for relative
// overhead) in these variants:
//
//	plain    no tracing, no headers
//	header   no tracing, but the client sends a fixed traceparent THeader:
//	         what Thrift itself charges for carrying the header
//	traced   client and server traced
//	tserver  only the server traced (client as in "header")
//	tclient  only the client traced
//	lean     as plain, but served and called with this package's
//	         HeaderProtocol (NewTSimpleServer, NewHeaderProtocol)
//	ltraced  as traced, over HeaderProtocol: the recommended setup
//
// plain, header, traced, tserver and tclient use thrift's THeaderProtocol.
// ltraced against plain is what instrumenting a service costs; ltraced
// against lean is the cost of the spans alone.
//
// The traced variants export through a real Exporter to a blackhole
// collector, so span encoding and sending are part of the cost. allocs/op
// counts both sides of the call; cpu-ns/op is the CPU time of the whole
// process per call. On a shared machine compare medians of alternated runs:
//
//	./bench_ab.sh RPC/inmemory 50000x 9
//	./bench_ab.sh RPC/loopback 20000x 9
//	./bench_ab.sh RPCParallel/loopback 20000x 9
//	VARIANTS='plain lean ltraced' ./bench_ab.sh RPCParallel/loopback 20000x 9
//	go test -run '^$' -bench 'InstrumentationOnly|Record|EncodeSpan|Now' -benchmem .

// benchTracer returns a Tracer exporting to an in-test collector, and reports
// the spans it dropped when the benchmark ends.
func benchTracer(b *testing.B, service string) *Tracer {
	b.Helper()
	e := newTestExporter(b, ExporterConfig{Endpoint: startBlackhole(b), ServiceName: service})
	b.Cleanup(func() {
		if d := e.totalDropped(); d > 0 {
			b.Logf("%s: %d spans dropped", service, d)
		}
	})
	return NewTracer(service, e)
}

// memConn is one end of an in-memory connection. The client end's Flush
// runs the server on the request it just wrote, so a whole RPC runs on one
// goroutine with no network and no scheduler in the way: what remains is
// Thrift's own encode, decode and dispatch, and the instrumentation.
type memConn struct {
	in, out *bytes.Buffer
	onFlush func() error
}

func (m *memConn) Read(p []byte) (int, error)               { return m.in.Read(p) }
func (m *memConn) Write(p []byte) (int, error)              { return m.out.Write(p) }
func (m *memConn) Flush(context.Context) error              { return m.onFlush() }
func (m *memConn) Open() error                              { return nil }
func (m *memConn) IsOpen() bool                             { return true }
func (m *memConn) Close() error                             { return nil }
func (m *memConn) RemainingBytes() uint64                   { return ^uint64(0) }
func noFlush() error                                        { return nil }
func (m *memConn) String() string                           { return "memConn" }
func (m *memConn) SetTConfiguration(*thrift.TConfiguration) {}

// inMemoryClient returns a Collector client whose calls are served in-line
// by processor, both over THeader as in production (HeaderProtocol if lean).
func inMemoryClient(lean bool, processor thrift.TProcessor, mw ...thrift.ClientMiddleware) *seerthrift.CollectorClient {
	req, resp := new(bytes.Buffer), new(bytes.Buffer)
	conf := &thrift.TConfiguration{}
	if lean {
		// What TSimpleServer does per request with a HeaderProtocol.
		server := NewHeaderProtocol(&memConn{in: req, out: resp, onFlush: noFlush}, conf)
		serve := func() error {
			_, err := processor.Process(context.Background(), server, server)
			return err
		}
		client := NewHeaderProtocol(&memConn{in: resp, out: req, onFlush: serve}, conf)
		return seerthrift.NewCollectorClient(thrift.WrapClient(thrift.NewTStandardClient(client, client), mw...))
	}
	server := thrift.NewTHeaderProtocolConf(&memConn{in: req, out: resp, onFlush: noFlush}, conf)
	serve := func() error {
		// What TSimpleServer does per request.
		ctx := context.Background()
		if err := server.ReadFrame(ctx); err != nil {
			return err
		}
		ctx = thrift.AddReadTHeaderToContext(ctx, server.GetReadHeaders())
		_, err := processor.Process(ctx, server, server)
		return err
	}
	client := thrift.NewTHeaderProtocolConf(&memConn{in: resp, out: req, onFlush: serve}, conf)
	return seerthrift.NewCollectorClient(thrift.WrapClient(thrift.NewTStandardClient(client, client), mw...))
}

// isLean says whether variant v runs over HeaderProtocol, and sets the
// test servers and clients to it until the benchmark ends.
func isLean(b *testing.B, v string) bool {
	lean := v == "lean" || v == "ltraced"
	leanServer, leanClient = lean, lean
	b.Cleanup(func() { leanServer, leanClient = false, false })
	return lean
}

// setup returns a processor and client middlewares, traced or not.
func setup(b *testing.B, traced bool) (thrift.TProcessor, []thrift.ClientMiddleware) {
	p := thrift.TProcessor(seerthrift.NewCollectorProcessor(collectorFunc(accept)))
	if !traced {
		return p, nil
	}
	return benchTracer(b, "server").WrapProcessor(p), []thrift.ClientMiddleware{benchTracer(b, "client").ClientMiddleware("server")}
}

// staticTraceparent makes an uninstrumented client send a fixed traceparent
// header: the price of carrying the header in THeader, which is Thrift's,
// separated from the instrumentation's.
func staticTraceparent(next thrift.TClient) thrift.TClient {
	return thrift.WrappedTClient{Wrapped: func(ctx context.Context, method string, args, result thrift.TStruct) (thrift.ResponseMeta, error) {
		ctx = thrift.SetHeader(ctx, TraceparentHeader, "00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01")
		ctx = thrift.SetWriteHeaderList(ctx, traceparentOnlyList.([]string))
		return next.Call(ctx, method, args, result)
	}}
}

// BenchmarkRPC is the latency of one call, sequential.
func BenchmarkRPC(b *testing.B) {
	for _, transport := range []string{"inmemory", "loopback"} {
		for _, v := range []string{"plain", "header", "traced", "tserver", "tclient", "lean", "ltraced"} {
			b.Run(transport+"/"+v, func(b *testing.B) {
				lean := isLean(b, v)
				processor, mw := setup(b, v != "plain" && v != "header" && v != "lean")
				switch v {
				case "header", "tserver": // the server alone is traced
					mw = []thrift.ClientMiddleware{staticTraceparent}
				case "tclient":
					processor = seerthrift.NewCollectorProcessor(collectorFunc(accept))
				}
				var client *seerthrift.CollectorClient
				if transport == "inmemory" {
					client = inMemoryClient(lean, processor, mw...)
				} else {
					p := dialTHeader(b, startTHeaderServer(b, processor))
					client = seerthrift.NewCollectorClient(thrift.WrapClient(thrift.NewTStandardClient(p, p), mw...))
				}
				batch := oneSpanBatch()
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				cpu := startCPU()
				for range b.N {
					if _, err := client.SubmitBatch(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
		}
	}
}

// BenchmarkRPCParallel is the throughput of concurrent calls over loopback,
// one connection per goroutine: ns/op is the inverse of calls per second.
func BenchmarkRPCParallel(b *testing.B) {
	for _, v := range []string{"plain", "header", "traced", "lean", "ltraced"} {
		b.Run("loopback/"+v, func(b *testing.B) {
			isLean(b, v)
			processor, mw := setup(b, v == "traced" || v == "ltraced")
			if v == "header" {
				mw = []thrift.ClientMiddleware{staticTraceparent}
			}
			addr := startTHeaderServer(b, processor)
			b.ReportAllocs()
			b.SetParallelism(4)
			cpu := startCPU()
			defer cpu.report(b)
			b.RunParallel(func(pb *testing.PB) {
				p := dialTHeader(b, addr)
				client := seerthrift.NewCollectorClient(thrift.WrapClient(thrift.NewTStandardClient(p, p), mw...))
				batch := oneSpanBatch()
				for pb.Next() {
					if _, err := client.SubmitBatch(context.Background(), batch); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// cpuClock measures the CPU time of the whole process (client, server,
// exporter, GC): on a shared machine it is steadier than wall time, and it
// is what throughput is bound by when the CPU is the bottleneck.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkRecord is the cost of handing a span to the Exporter's buffer
// (the export goroutine is left out: the buffer is drained off the clock).
func BenchmarkRecord(b *testing.B) {
	e := &Exporter{buf: newSpanRing(1 << 14)}
	s := testSpan(1, seerthrift.SpanKind_SERVER)
	var out SpanData
	b.ReportAllocs()
	for i := range b.N {
		if i%e.buf.cap() == 0 && i > 0 {
			b.StopTimer()
			for e.buf.pop(&out) {
			}
			b.StartTimer()
		}
		e.Record(&s)
	}
	if d := e.totalDropped(); d > 0 {
		b.Fatalf("%d dropped", d)
	}
}

func BenchmarkNow(b *testing.B) {
	var sink int64
	for range b.N {
		sink += Now()
	}
	_ = sink
}

// startBlackhole runs a collector that acknowledges every batch without
// decoding it. The benchmarks run the collector in their own process, and a
// real one would add its decoding to the instrumentation's bill.
func startBlackhole(b testing.TB) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			wg.Go(func() { blackholeConn(nc) })
		}
	})
	b.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, nc := range conns {
			_ = nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func blackholeConn(nc net.Conn) {
	defer nc.Close()
	var frame []byte
	reply := thrift.NewTMemoryBuffer()
	out := thrift.NewTCompactProtocolConf(reply, &thrift.TConfiguration{})
	result := seerthrift.CollectorSubmitBatchResult{Success: &seerthrift.SubmitResult_{}}
	ctx := context.Background()
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if cap(frame) < int(n) {
			frame = make([]byte, n)
		}
		frame = frame[:n]
		if _, err := io.ReadFull(nc, frame); err != nil {
			return
		}
		// Compact message header: protocol id, version|type, varint seqid.
		seq, k := binary.Uvarint(frame[2:])
		if k <= 0 {
			return
		}
		reply.Reset()
		reply.Write(hdr[:]) // room for the frame size
		_ = out.WriteMessageBegin(ctx, "submitBatch", thrift.REPLY, int32(seq))
		_ = result.Write(ctx, out)
		_ = out.WriteMessageEnd(ctx)
		buf := reply.Bytes()
		binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
		if _, err := nc.Write(buf); err != nil {
			return
		}
	}
}

// nopProto answers the two calls the server middleware intercepts.
type nopProto struct{ thrift.TProtocol }

func (nopProto) ReadMessageEnd(context.Context) error { return nil }
func (nopProto) WriteMessageBegin(context.Context, string, thrift.TMessageType, int32) error {
	return nil
}

// headerReader is a TClient that reads the headers to write as
// TStandardClient does, and returns.
type headerReader struct{ got string }

func (h *headerReader) Call(ctx context.Context, _ string, _, _ thrift.TStruct) (thrift.ResponseMeta, error) {
	for _, k := range thrift.GetWriteHeaderList(ctx) {
		h.got, _ = thrift.GetHeader(ctx, k)
	}
	return thrift.ResponseMeta{}, nil
}

// BenchmarkInstrumentationOnly is the instrumentation's own cost per RPC,
// without Thrift's encoding, transport or THeader handling: a client span
// (with header injection) and a server span (with header extraction) handed
// to a real Exporter, whose goroutine encodes and sends them to a
// blackhole collector. cpu-ns/op includes that goroutine.
func BenchmarkInstrumentationOnly(b *testing.B) {
	exp := newTestExporter(b, ExporterConfig{Endpoint: startBlackhole(b), ServiceName: "s"})
	tr := NewTracer("s", exp)
	reader := &headerReader{}
	client := tr.ClientMiddleware("peer")(reader)
	server := tr.ProcessorMiddleware()("op", thrift.WrappedTProcessorFunction{
		Wrapped: func(ctx context.Context, seqID int32, in, out thrift.TProtocol) (bool, thrift.TException) {
			_ = in.ReadMessageEnd(ctx)
			_ = out.WriteMessageBegin(ctx, "op", thrift.REPLY, seqID)
			return true, nil
		},
	})
	// What TSimpleServer gives a handler when a traceparent came in.
	serverCtx := thrift.AddReadTHeaderToContext(context.Background(),
		thrift.THeaderMap{TraceparentHeader: "00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01"})
	var p thrift.TProtocol = nopProto{}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	for i := range b.N {
		_, _ = client.Call(ctx, "op", nil, nil)
		_, _ = server.Process(serverCtx, 1, p, p)
		// Export keeps up with real services; here the loop outruns it, so
		// flush (off the wall clock, on the CPU clock) instead of
		// dropping.
		if i%2048 == 2047 {
			b.StopTimer()
			if err := exp.ForceFlush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	cpu.report(b)
	b.StopTimer()
	if reader.got == "" {
		b.Fatal("no traceparent injected")
	}
	if d := exp.totalDropped(); d > 0 {
		b.Logf("%d spans dropped", d)
	}
}
