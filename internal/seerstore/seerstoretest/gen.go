// Package seerstoretest generates Seer-like traces for the store and exporter tests and
// benchmarks: RPC trees over a few services, each span with the seer.* queue attributes.
package seerstoretest

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/seerattr"
	"github.com/seer-qos/seer/internal/seerstore"
)

// Services are the services of generated traces; span i of a trace belongs to Services[i%len].
var Services = []string{"frontend", "compose-post", "text", "user-timeline", "post-storage"}

// Gen generates traces whose ids are unique per (Seed, trace index), so that several generators
// with different seeds never collide.
type Gen struct {
	Seed          uint64
	SpansPerTrace int       // default 5
	Start         time.Time // first trace's start; default 2026-01-01T00:00:00Z
	Step          time.Duration
	// AttrBytes adds a string attribute of this many bytes to every span (payload-like data).
	AttrBytes int
	next      uint64
}

// TraceID returns the id of trace n of this generator.
func (g *Gen) TraceID(n uint64) pcommon.TraceID {
	var id pcommon.TraceID
	binary.BigEndian.PutUint64(id[:8], g.Seed+1)
	binary.BigEndian.PutUint64(id[8:], n+1)
	return id
}

// SpanID returns the id of span i of trace n.
func (g *Gen) SpanID(n uint64, i int) pcommon.SpanID {
	var id pcommon.SpanID
	binary.BigEndian.PutUint32(id[:4], uint32(n+1))
	binary.BigEndian.PutUint32(id[4:], uint32(i+1)^uint32(g.Seed<<16))
	return id
}

// Traces returns the next n traces as one request, one ResourceSpans per service.
func (g *Gen) Traces(n int) ptrace.Traces {
	per := g.SpansPerTrace
	if per == 0 {
		per = 5
	}
	start := g.Start
	if start.IsZero() {
		start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	step := g.Step
	if step == 0 {
		step = time.Millisecond
	}
	td := ptrace.NewTraces()
	bySvc := map[string]ptrace.SpanSlice{}
	for _, svc := range Services {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", svc)
		rs.Resource().Attributes().PutStr("service.instance.id", svc+"-0")
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("seer.test")
		bySvc[svc] = ss.Spans()
	}
	var pad string
	if g.AttrBytes > 0 {
		b := make([]byte, g.AttrBytes)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		pad = string(b)
	}
	for t := 0; t < n; t++ {
		tn := g.next
		g.next++
		t0 := start.Add(time.Duration(tn) * step)
		for i := 0; i < per; i++ {
			svc := Services[i%len(Services)]
			sp := bySvc[svc].AppendEmpty()
			sp.SetTraceID(g.TraceID(tn))
			sp.SetSpanID(g.SpanID(tn, i))
			if i > 0 {
				sp.SetParentSpanID(g.SpanID(tn, i-1))
			}
			sp.SetName(fmt.Sprintf("%s/op%d", svc, i))
			sp.SetKind(ptrace.SpanKindServer)
			s := t0.Add(time.Duration(i) * 100 * time.Microsecond)
			e := s.Add(time.Duration(1000-i*100) * time.Microsecond)
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(s))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(e))
			a := sp.Attributes()
			a.PutStr(seerattr.RPCSystem, "thrift")
			a.PutStr(seerattr.RPCMethod, fmt.Sprintf("op%d", i))
			a.PutInt(seerattr.ServerReceive, s.UnixNano())
			a.PutInt(seerattr.AppReceive, s.UnixNano()+2000)
			a.PutInt(seerattr.ProcessingStart, s.UnixNano()+5000)
			a.PutInt(seerattr.ProcessingEnd, e.UnixNano()-1000)
			a.PutInt(seerattr.OutstandingRequests, int64((tn+uint64(i))%17))
			a.PutInt(seerattr.NICQueueDepth, int64((tn*3+uint64(i))%5))
			if pad != "" {
				a.PutStr("payload", pad)
			}
		}
	}
	return td
}

// Sealer returns a record sealer with a fresh random key, for stores in
// tests.
func Sealer(t testing.TB) *seerstore.Sealer {
	t.Helper()
	key := make([]byte, seerstore.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	s, err := seerstore.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Secret is what SecretSpans put in every span: a test of a store finds it
// in none of its bytes.
const Secret = "Bearer SUPERSECRETTOKEN42"

// SecretSpans returns the spans of g's first n traces, each with Secret as
// its status message.
func SecretSpans(t testing.TB, g Gen, n int) []seerstore.Span {
	t.Helper()
	v := seerstore.FromTraces(g.Traces(n), seerstore.DefaultLimits(), time.Now())
	if err := v.Err(); err != nil {
		t.Fatal(err)
	}
	for i := range v.Spans {
		v.Spans[i].StatusMessage = Secret
	}
	return v.Spans
}
