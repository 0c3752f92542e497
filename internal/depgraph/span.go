package depgraph

// Kind is the span kind, as OpenTelemetry defines it.
type Kind uint8

// The span kinds.
const (
	KindUnspecified Kind = iota
	KindInternal
	KindServer
	KindClient
	KindProducer
	KindConsumer
)

func (k Kind) isServer() bool { return k == KindServer || k == KindConsumer }
func (k Kind) isClient() bool { return k == KindClient || k == KindProducer }

// Span is what the graph needs from one span.
type Span struct {
	TraceID  [16]byte
	SpanID   [8]byte
	ParentID [8]byte // zero for a root span
	// Service is the span's service.name; Operation its name.
	Service, Operation string
	// PeerService is the callee named by a CLIENT span (peer.service), used
	// when the callee sends no spans of its own.
	PeerService string
	Kind        Kind
	// Start and End are Unix nanoseconds.
	Start, End int64
	Error      bool
}

func (s *Span) hasParent() bool { return s.ParentID != [8]byte{} }
