package nezha

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/depgraph"
)

// Kind is the span kind worked out for a Nezha span (see the package doc).
type Kind uint8

// The kinds.
const (
	KindInternal Kind = iota + 1
	KindServer
	KindClient
)

func (k Kind) String() string {
	switch k {
	case KindServer:
		return "server"
	case KindClient:
		return "client"
	case KindInternal:
		return "internal"
	}
	return "unknown"
}

func (k Kind) ptrace() ptrace.SpanKind {
	switch k {
	case KindServer:
		return ptrace.SpanKindServer
	case KindClient:
		return ptrace.SpanKindClient
	}
	return ptrace.SpanKindInternal
}

func (k Kind) graph() depgraph.Kind {
	switch k {
	case KindServer:
		return depgraph.KindServer
	case KindClient:
		return depgraph.KindClient
	}
	return depgraph.KindInternal
}

// Span is a Row with its service, kind and, for a client, its callee.
type Span struct {
	Row
	Service string
	Kind    Kind
	Peer    string
	// Orphan: the parent ID is not in the data (then Kind is KindServer).
	Orphan bool
}

// OperationService returns the service an RPC operation name addresses, in
// lower case: "hipstershop.CartService/GetCart",
// "/hipstershop.CartService/GetCart" and
// "grpc.hipstershop.CartService/GetCart" give "cartservice"; "" when the
// name has no "package.Service/" part.
func OperationService(op string) string {
	op = strings.TrimPrefix(op, "/")
	svc, _, ok := strings.Cut(op, "/")
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(svc, '.'); i >= 0 {
		svc = svc[i+1:]
	}
	return strings.ToLower(svc)
}

type spanRef struct {
	trace [16]byte
	span  [8]byte
}

// Classify sets Service, Kind, Peer and Orphan of spans (one segment, no
// duplicates) by the rules of the package doc. known holds the services
// seen so far; those of spans are added. It returns the orphans.
func Classify(spans []Span, known map[string]bool) (orphans int) {
	idx := make(map[spanRef]int32, len(spans))
	for i := range spans {
		s := &spans[i]
		s.Service = ServiceOf(s.Pod)
		s.Kind, s.Peer, s.Orphan = 0, "", false
		known[s.Service] = true
		idx[spanRef{s.TraceID, s.SpanID}] = int32(i)
	}
	for i := range spans {
		s := &spans[i]
		if s.Root {
			s.Kind = KindServer
			continue
		}
		p, ok := idx[spanRef{s.TraceID, s.ParentID}]
		if !ok {
			s.Kind, s.Orphan = KindServer, true
			orphans++
			continue
		}
		if ps := &spans[p]; ps.Service != s.Service {
			s.Kind = KindServer
			if ps.Peer == "" {
				ps.Peer = s.Service
			}
		}
	}
	for i := range spans {
		s := &spans[i]
		if s.Kind != 0 {
			continue
		}
		if s.Peer == "" {
			if svc := OperationService(s.Operation); svc != s.Service && known[svc] {
				s.Peer = svc
			}
		}
		if s.Peer != "" {
			s.Kind = KindClient
		} else {
			s.Kind = KindInternal
		}
	}
	// A server span's Peer was set by a cross-service child; only clients
	// name a callee.
	for i := range spans {
		if spans[i].Kind == KindServer {
			spans[i].Peer = ""
		}
	}
	return orphans
}
