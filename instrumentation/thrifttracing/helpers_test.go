package thrifttracing

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// waitTimeout bounds every wait in these tests: a test that reaches it has
// failed (a deadlock or a lost message), it is never how tests synchronise.
const waitTimeout = 10 * time.Second

// recordingSink is a SpanSink that hands spans to the test.
type recordingSink struct{ ch chan SpanData }

func newRecordingSink() *recordingSink { return &recordingSink{ch: make(chan SpanData, 4096)} }

func (r *recordingSink) Record(s *SpanData) { r.ch <- *s }

// take waits for exactly n spans.
func (r *recordingSink) take(t *testing.T, n int) []SpanData {
	t.Helper()
	out := make([]SpanData, 0, n)
	timeout := time.After(waitTimeout)
	for len(out) < n {
		select {
		case s := <-r.ch:
			out = append(out, s)
		case <-timeout:
			t.Fatalf("got %d spans, want %d", len(out), n)
		}
	}
	return out
}

// expectNone checks that no span is pending.
func (r *recordingSink) expectNone(t *testing.T) {
	t.Helper()
	select {
	case s := <-r.ch:
		t.Fatalf("unexpected span %+v", s)
	default:
	}
}

func byKind(t *testing.T, spans []SpanData, kind seerthrift.SpanKind, service string) []SpanData {
	t.Helper()
	var out []SpanData
	for _, s := range spans {
		if s.Kind == kind && (service == "" || s.PeerService == service) {
			out = append(out, s)
		}
	}
	return out
}

// collectorFunc adapts a function to seerthrift.Collector.
type collectorFunc func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error)

func (f collectorFunc) SubmitBatch(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
	return f(ctx, b)
}

func accept(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
	return &seerthrift.SubmitResult_{AcceptedSpans: int32(len(b.Spans))}, nil
}

// The THeader implementation of the test servers and clients: thrift's
// (thrift.THeaderProtocol) by default, this package's HeaderProtocol
// (NewTSimpleServer, NewHeaderProtocol) when set. TestHeaderProtocolStack
// runs the span tests with each; tests do not run in parallel.
var leanServer, leanClient bool

// startTHeaderServer serves processor over THeader on a free loopback port,
// the way instrumented services are meant to run.
func startTHeaderServer(t testing.TB, processor thrift.TProcessor) string {
	t.Helper()
	ss, err := thrift.NewTServerSocket("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Listen(); err != nil {
		t.Fatal(err)
	}
	conf := &thrift.TConfiguration{}
	srv := thrift.NewTSimpleServer4(processor, ss,
		thrift.NewTHeaderTransportFactoryConf(nil, conf), thrift.NewTHeaderProtocolFactoryConf(conf))
	if leanServer {
		srv = NewTSimpleServer(processor, ss, conf)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve()
	}()
	t.Cleanup(func() {
		_ = srv.Stop()
		<-served
	})
	return ss.Addr().String()
}

// dialTHeader returns a THeader client connection to addr, closed at cleanup
// (before the server stops, which waits for its connections).
func dialTHeader(t testing.TB, addr string) thrift.TProtocol {
	t.Helper()
	conf := &thrift.TConfiguration{}
	sock := thrift.NewTSocketConf(addr, conf)
	if err := sock.Open(); err != nil {
		t.Fatal(err)
	}
	var p thrift.TProtocol = thrift.NewTHeaderProtocolConf(sock, conf)
	if leanClient {
		p = NewHeaderProtocol(sock, conf)
	}
	t.Cleanup(func() { _ = p.Transport().Close() })
	return p
}

// testCollector is an in-test seerthrift Collector over framed compact TCP
// whose connections the test can cut.
type testCollector struct {
	t       testing.TB
	ln      net.Listener
	handler seerthrift.Collector
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	accepts int
	wg      sync.WaitGroup
}

func newTestCollector(t testing.TB, handler collectorFunc) *testCollector {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &testCollector{t: t, ln: ln, handler: handler, conns: map[net.Conn]struct{}{}}
	c.wg.Add(1)
	go c.acceptLoop()
	t.Cleanup(func() {
		_ = ln.Close()
		c.cutConnections()
		c.wg.Wait()
	})
	return c
}

func (c *testCollector) addr() string { return c.ln.Addr().String() }

func (c *testCollector) acceptLoop() {
	defer c.wg.Done()
	for {
		nc, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		c.conns[nc] = struct{}{}
		c.accepts++
		c.mu.Unlock()
		c.wg.Add(1)
		go c.serve(nc)
	}
}

func (c *testCollector) serve(nc net.Conn) {
	defer c.wg.Done()
	defer func() {
		c.mu.Lock()
		delete(c.conns, nc)
		c.mu.Unlock()
		_ = nc.Close()
	}()
	conf := &thrift.TConfiguration{}
	proto := thrift.NewTCompactProtocolConf(thrift.NewTFramedTransportConf(thrift.NewTSocketFromConnConf(nc, conf), conf), conf)
	proc := seerthrift.NewCollectorProcessor(c.handler)
	for {
		ok, err := proc.Process(context.Background(), proto, proto)
		if err != nil && errors.As(err, new(thrift.TTransportException)) || !ok {
			return
		}
	}
}

// cutConnections closes every open server-side connection.
func (c *testCollector) cutConnections() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for nc := range c.conns {
		_ = nc.Close()
	}
}

func (c *testCollector) acceptCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.accepts
}

// headerCarrier adapts one traceparent value to OpenTelemetry's propagator.
type headerCarrier struct {
	traceparent string
}

func (h *headerCarrier) Get(key string) string {
	if key == TraceparentHeader {
		return h.traceparent
	}
	return ""
}

func (h *headerCarrier) Set(key, value string) {
	if key == TraceparentHeader {
		h.traceparent = value
	}
}

func (h *headerCarrier) Keys() []string { return []string{TraceparentHeader} }
