package depgraph

import "strings"

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

// nameID is an interned service or operation name (Graph.nameStrs); 0 is
// the empty name.
type nameID uint32

// span is a buffered Span: its names are interned, so it holds no pointers
// and a graph full of pending traces costs the garbage collector nothing to
// scan; its trace ID is its pendingTrace's (48 bytes instead of 104).
type span struct {
	SpanID     [8]byte
	ParentID   [8]byte
	Start, End int64
	// svc is the service, op the operation and peer the peer service (of
	// client spans only).
	svc, op, peer nameID
	Kind          Kind
	Error         bool
}

func (s *span) hasParent() bool { return s.ParentID != [8]byte{} }

// minNameLimit is the least size of the name table that triggers its
// compaction: room for every name the caps let the graph hold, and more.
func minNameLimit(cfg Config) int {
	return 2*(cfg.MaxServices+cfg.MaxOperations) + 1024
}

// intern returns the ID of name, adding it to the table.
func (g *Graph) intern(name string) nameID {
	if name == "" {
		return 0
	}
	c := &g.internCache[internSlot(name)]
	if c.id != 0 && c.name == name {
		return c.id
	}
	id, ok := g.nameIDs[name]
	if !ok {
		name = strings.Clone(name) // not a view into a request buffer
		id = nameID(len(g.nameStrs))
		g.nameStrs = append(g.nameStrs, name)
		g.nameIDs[name] = id
	}
	*c = internEntry{name: g.nameStrs[id], id: id}
	return id
}

// internCacheN is the size of the direct-mapped cache in front of
// Graph.nameIDs: operation names repeat, and comparing one string is
// cheaper than hashing it.
const internCacheN = 256

type internEntry struct {
	name string
	id   nameID
}

// internSlot picks the cache slot of a non-empty name.
func internSlot(name string) int {
	n := len(name)
	return int(uint(n)*131+uint(name[0])*31+uint(name[n-1])*7+uint(name[n/2])) % internCacheN
}

// compactNames rebuilds the name table from the names the pending spans
// use, so names that come and go (operations beyond the caps, expired
// services) do not accumulate.
func (g *Graph) compactNames() {
	old := g.nameStrs
	remap := make([]nameID, len(old))
	g.nameIDs = make(map[string]nameID, len(g.nameIDs)/2)
	g.nameStrs = []string{""}
	g.internCache = [internCacheN]internEntry{}
	re := func(id nameID) nameID {
		if id == 0 {
			return 0
		}
		if remap[id] == 0 {
			remap[id] = g.intern(old[id])
		}
		return remap[id]
	}
	for _, t := range g.pending {
		for i := range t.spans {
			s := &t.spans[i]
			s.svc, s.op, s.peer = re(s.svc), re(s.op), re(s.peer)
		}
	}
	g.nodes = nil
	g.lastSvc, g.lastSvcID = "", 0
	for _, n := range g.services {
		clear(n.opIDs)
	}
	g.nameLimit = max(minNameLimit(g.cfg), 2*len(g.nameStrs))
}
