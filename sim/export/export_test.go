package export

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/seer-qos/seer/idl/seerthrift"
	"github.com/seer-qos/seer/internal/seerattr"
	"github.com/seer-qos/seer/sim"
	"github.com/seer-qos/seer/sim/topology"
)

func socialNetwork(t *testing.T) *topology.Topology {
	t.Helper()
	topo, _, err := topology.Load("social-network")
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func TestOTLPHTTPReceivesEverySpanWithSeerAttributes(t *testing.T) {
	var mu sync.Mutex
	var spans, server, withDepth int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(r.Body)
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		td := req.Traces()
		mu.Lock()
		defer mu.Unlock()
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			ss := td.ResourceSpans().At(i).ScopeSpans().At(0).Spans()
			for j := 0; j < ss.Len(); j++ {
				spans++
				if _, ok := ss.At(j).Attributes().Get(seerattr.OutstandingRequests); ok {
					withDepth++
				}
				if ss.At(j).Kind() == 2 {
					server++
				}
			}
		}
	}))
	defer srv.Close()
	exp := NewOTLPHTTP(srv.URL)
	sink := sim.NewOTLPSink(exp.Send, 500)
	var sent, sentServer int
	_, err := sim.Run(sim.Config{Topology: socialNetwork(t), Seed: 1, Duration: time.Second, Load: sim.Load{Rate: 500}, Spans: sim.Tee(counter{&sent, &sentServer}, sink)})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	if sent < 1000 || spans != sent || server != sentServer || withDepth != server {
		t.Fatalf("received %d spans (%d server, %d with depth), simulated %d (%d server)", spans, server, withDepth, sent, sentServer)
	}
}

func TestOTLPHTTPReportsRefusal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	sink := sim.NewOTLPSink(NewOTLPHTTP(srv.URL).Send, 10)
	_, err := sim.Run(sim.Config{Topology: socialNetwork(t), Seed: 1, Duration: time.Second, Load: sim.Load{Rate: 100}, Spans: sink})
	if err == nil {
		t.Fatal("run succeeded although the endpoint refused every batch")
	}
}

type collector struct {
	mu      sync.Mutex
	spans   int
	servers int
	depth   int
	batches int
}

func (c *collector) SubmitBatch(_ context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches++
	for _, s := range b.Spans {
		c.spans++
		if s.Kind == seerthrift.SpanKind_SERVER {
			c.servers++
			if s.OutstandingRequests != nil {
				c.depth++
			}
		}
	}
	return &seerthrift.SubmitResult_{AcceptedSpans: int32(len(b.Spans))}, nil
}

func TestSeerThriftDeliversEverySpan(t *testing.T) {
	c, sent, sentServer := runSeerThrift(t, false)
	if sent < 1000 || c.spans != sent || c.servers != sentServer || c.depth != c.servers {
		t.Fatalf("collector got %d spans (%d server, %d with depth) in %d batches; simulated %d (%d server)", c.spans, c.servers, c.depth, c.batches, sent, sentServer)
	}
}

func TestSeerThriftOmitsOutstanding(t *testing.T) {
	c, sent, sentServer := runSeerThrift(t, true)
	if sent < 1000 || c.spans != sent || c.servers != sentServer || c.depth != 0 {
		t.Fatalf("collector got %d spans (%d server, %d with depth) in %d batches; simulated %d (%d server)", c.spans, c.servers, c.depth, c.batches, sent, sentServer)
	}
}

// runSeerThrift sends one simulated second to a collector and returns what
// it received and what was simulated.
func runSeerThrift(t *testing.T, omitOutstanding bool) (c *collector, sent, sentServer int) {
	t.Helper()
	sock, err := thrift.NewTServerSocket("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := sock.Listen(); err != nil {
		t.Fatal(err)
	}
	c = &collector{}
	conf := &thrift.TConfiguration{}
	server := thrift.NewTSimpleServer4(seerthrift.NewCollectorProcessor(c), sock,
		thrift.NewTFramedTransportFactoryConf(thrift.NewTTransportFactory(), conf), thrift.NewTCompactProtocolFactoryConf(conf))
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = server.Serve()
	}()
	defer func() {
		_ = server.Stop()
		<-served
	}()

	s, err := DialSeerThrift(sock.Addr().String(), 300)
	if err != nil {
		t.Fatal(err)
	}
	s.OmitOutstanding = omitOutstanding
	_, err = sim.Run(sim.Config{Topology: socialNetwork(t), Seed: 1, Duration: time.Second, Load: sim.Load{Rate: 300}, Spans: sim.Tee(counter{&sent, &sentServer}, s)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c, sent, sentServer
}

func TestPacerHoldsSpansToTheClock(t *testing.T) {
	var n int
	sink := spanCount(&n)
	p := NewPacer(context.Background(), sink, 20, sim.DefaultStart)
	start := time.Now()
	// 2 s of simulated time at 20x: at least 100 ms of wall time
	_, err := sim.Run(sim.Config{Topology: socialNetwork(t), Seed: 1, Duration: 2 * time.Second, Load: sim.Load{Rate: 200}, Spans: p})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 90*time.Millisecond {
		t.Fatalf("2s simulated at 20x took only %v", el)
	}
	if n == 0 {
		t.Fatal("no span passed")
	}
}

type counter struct{ all, server *int }

func (c counter) Span(s *sim.Span) error {
	*c.all++
	if s.Kind == sim.KindServer {
		*c.server++
	}
	return nil
}

type spanCounter struct{ n *int }

func spanCount(n *int) spanCounter         { return spanCounter{n} }
func (c spanCounter) Span(*sim.Span) error { *c.n++; return nil }
