package depgraph

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Overflow names the service and operation that take what exceeds the caps.
const Overflow = "__overflow__"

// Stats counts what the Graph did with spans. Every span given to Add is
// exactly one of Buffered, Late or Dropped.
type Stats struct {
	Buffered uint64 // held until its trace was analysed
	Late     uint64 // ended before the watermark: its trace was analysed already
	Dropped  uint64 // MaxPendingSpans was reached

	Traces          uint64 // traces analysed
	DuplicateSpans  uint64 // same span ID twice within a trace
	OrphanSpans     uint64 // server spans whose parent never arrived
	UnpairedClients uint64 // client spans with neither a callee span nor peer.service

	OverflowServices   uint64 // spans of services beyond MaxServices
	OverflowOperations uint64 // invocations of operations beyond MaxOperations
	OverflowEdges      uint64 // calls on edges beyond MaxEdges
	OverflowPaths      uint64 // critical paths forgotten beyond the per-root cap
}

type edgeKey struct{ from, to *serviceNode } // nodes are unique per name while alive

type opKey struct{ service, op string }

type pairKey struct{ a, b *serviceNode } // a.name < b.name

type serviceNode struct {
	name      string
	virtual   bool // only seen as peer.service of a client span
	firstSeen int64
	lastSeen  int64
	spans     uint64
	ops       map[string]*opStats
	// opIDs and out look ops and g.edges up by name ID and callee without
	// hashing strings; they hold what those maps hold.
	opIDs map[nameID]*opStats
	out   map[*serviceNode]*edge
}

type opStats struct {
	invocations uint64
	calls       uint64
	maxCalls    uint64
	callees     map[string]uint64
	multiCall   uint64 // invocations with at least two calls
	sequential  uint64 // ... of which made them strictly one after another
	savableNs   float64
}

type edge struct {
	calls, errors   uint64
	lat             latencyHist
	curCalls, curEr uint64
	rate, errRate   float64 // of the last complete window
	firstSeen       int64
	lastSeen        int64
}

type pairStats struct {
	traces, calls, bothWays uint64
}

type rootPaths struct {
	counts   map[string]*float64
	dominant string
}

// maxCalleesPerOp bounds the callees listed per operation (calls and
// fan-out are still counted in full).
const maxCalleesPerOp = 64

// maxPathsPerRoot bounds the critical paths remembered per entry operation.
const maxPathsPerRoot = 32

type pendingTrace struct {
	id     [16]byte
	spans  []span
	maxEnd int64
	filed  int64 // maxEnd when it was queued
	waited bool  // held back once for a parent still to come (awaitsParent)
	held   int   // its spans when held back (Graph.waitingSpans)
}

// traceQueue holds pending traces in order of filing (first span end, or
// the trace's end when it was last looked at). Arrival order is close to
// event order, so a FIFO that re-files traces still growing is enough.
type traceQueue struct {
	items []*pendingTrace
	head  int
}

func (q *traceQueue) len() int             { return len(q.items) - q.head }
func (q *traceQueue) front() *pendingTrace { return q.items[q.head] }
func (q *traceQueue) push(t *pendingTrace) { q.items = append(q.items, t) }
func (q *traceQueue) pop() *pendingTrace {
	t := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}
	return t
}

// maxFreeTraces bounds the recycled pending traces.
const maxFreeTraces = 4096

// Graph learns the service dependency graph from spans. It is safe for
// concurrent use.
type Graph struct {
	cfg  Config
	feed *Feed

	mu          sync.Mutex
	started     bool
	maxEnd      int64
	windowStart int64

	pending      map[uint64]*pendingTrace // by traceKey
	queue        traceQueue
	waiting      traceQueue // traces held back for a parent still to come
	waitingSpans int        // their spans when held back: a quarter of MaxPendingSpans at most
	free         []*pendingTrace
	pendingSpans int

	services map[string]*serviceNode
	edges    map[edgeKey]*edge
	nOps     int
	// overflowOp takes invocations of operations beyond MaxOperations.
	overflowOp *opStats
	pairs      map[pairKey]*pairStats
	roots      map[opKey]*rootPaths

	stats Stats

	// lastTrace is the pending trace of the last span added (spans of a
	// trace tend to come together); nil once it is analysed.
	lastTrace *pendingTrace
	lastKey   uint64
	// Pending spans hold their names as IDs (span), so the buffered
	// spans hold no pointers for the garbage collector to scan.
	nameIDs  map[string]nameID
	nameStrs []string // by nameID; 0 is ""
	// nameLimit is the size of nameStrs that triggers compactNames.
	nameLimit int
	// The spans of one resource share their service name.
	lastSvc     string
	lastSvcID   nameID
	internCache [internCacheN]internEntry
	// nodes is the live service node of each name, where known; emptied
	// when a service is removed.
	nodes []*serviceNode

	// scratch of analyse
	idx     map[[8]byte]int
	names   []*serviceNode
	entryOp []*opStats
	pairAcc []pairScratch
	pairIdx map[pairKey]int // index of pairAcc, for traces with many pairs
	pathBuf []byte
	parent  []int
	entry   []int
	paired  []bool
	calls   []call
	firstCh []int
	nextSib []int
}

type call struct {
	from, to   *serviceNode
	entry      int
	start, end int64
	err        bool
}

// New returns an empty Graph that publishes its changes to feed (which may
// be nil).
func New(cfg Config, feed *Feed) (*Graph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dependency graph: %w", err)
	}
	if feed == nil {
		feed = NewFeed("")
	}
	return &Graph{
		cfg:      cfg,
		feed:     feed,
		pending:  make(map[uint64]*pendingTrace),
		services: make(map[string]*serviceNode),
		edges:    make(map[edgeKey]*edge),
		pairs:    make(map[pairKey]*pairStats),
		roots:    make(map[opKey]*rootPaths),
		idx:      make(map[[8]byte]int),
		pairIdx:  make(map[pairKey]int),
		nameIDs:  make(map[string]nameID),
		nameStrs: []string{""},
		// Names in use are bounded by the caps (and the pending spans).
		nameLimit: minNameLimit(cfg),
	}, nil
}

// Stats returns the counters so far.
func (g *Graph) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

// Sizes returns the current services, operations, edges and buffered spans.
func (g *Graph) Sizes() (services, operations, edges, pendingSpans int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.services), g.nOps, len(g.edges), g.pendingSpans
}

// Config returns the configuration.
func (g *Graph) Config() Config { return g.cfg }

// Add takes spans in the order they arrived.
func (g *Graph) Add(spans []Span) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range spans {
		g.add(&spans[i])
	}
}

// traceKey folds a trace ID into a map key that hashes fast.
func traceKey(id [16]byte) uint64 {
	return mix64(mix64(binary.LittleEndian.Uint64(id[8:])) ^ binary.LittleEndian.Uint64(id[:8]))
}

// mix64 is the splitmix64 finalizer.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	return z ^ z>>31
}

func (g *Graph) watermark() int64 { return g.maxEnd - int64(g.cfg.TraceWait) }

func (g *Graph) add(s *Span) {
	if !g.started {
		g.started = true
		g.maxEnd = s.End
		w := int64(g.cfg.Window)
		g.windowStart = floorDiv(g.watermark(), w) * w
	}
	key := traceKey(s.TraceID)
	t, ok := g.lastTrace, g.lastTrace != nil && g.lastKey == key
	if !ok {
		t, ok = g.pending[key]
	}
	// A span of a trace still pending joins it, however early it ended.
	if !ok && s.End < g.watermark() {
		g.stats.Late++
		return
	}
	if g.pendingSpans >= g.cfg.MaxPendingSpans || ok && t.id != s.TraceID {
		// Full, or two live traces share a 64-bit key (about 2^-64 per pair).
		g.stats.Dropped++
		return
	}
	g.stats.Buffered++
	if !ok {
		if n := len(g.free); n > 0 {
			t = g.free[n-1]
			g.free = g.free[:n-1]
		} else {
			t = &pendingTrace{spans: make([]span, 0, 8)}
		}
		t.id, t.maxEnd, t.filed, t.waited = s.TraceID, s.End, s.End, false
		g.pending[key] = t
		g.queue.push(t)
	} else if s.End > t.maxEnd {
		t.maxEnd = s.End
	}
	g.lastTrace, g.lastKey = t, key
	if len(g.nameStrs)+3 > g.nameLimit {
		g.compactNames()
	}
	ps := span{SpanID: s.SpanID, ParentID: s.ParentID, Start: s.Start, End: s.End,
		op: g.intern(s.Operation), Kind: s.Kind, Error: s.Error}
	if s.Service == g.lastSvc && g.lastSvcID != 0 {
		ps.svc = g.lastSvcID
	} else {
		ps.svc = g.intern(s.Service)
		g.lastSvc, g.lastSvcID = g.nameStrs[ps.svc], ps.svc
	}
	if s.Kind.isClient() { // only client spans name a peer
		ps.peer = g.intern(s.PeerService)
	}
	t.spans = append(t.spans, ps)
	g.pendingSpans++
	if s.End > g.maxEnd {
		g.maxEnd = s.End
		g.advance()
	}
}

func (g *Graph) advance() {
	wm := g.watermark()
	for g.queue.len() > 0 && g.queue.front().filed < wm {
		t := g.queue.pop()
		switch {
		case t.maxEnd >= wm: // still growing
			t.filed = t.maxEnd
			g.queue.push(t)
		case !t.waited && g.waitingSpans+len(t.spans) <= g.cfg.MaxPendingSpans/4 && g.awaitsParent(t.spans):
			// A request longer than trace_wait: its children ended, its own
			// span has not. Held back up to a window more (in a queue of its
			// own, so that it holds up no other trace) for it to arrive; a
			// quarter of the pending spans at most, as a parent may never
			// come (a client span under a context from a caller that does
			// not trace, in a process that makes no server span).
			t.waited, t.filed = true, t.maxEnd+int64(g.cfg.Window)
			g.waiting.push(t)
			t.held = len(t.spans)
			g.waitingSpans += t.held
		default:
			g.complete(t)
		}
	}
	for g.waiting.len() > 0 && g.waiting.front().filed < wm {
		t := g.waiting.pop()
		g.waitingSpans -= t.held
		if t.maxEnd >= wm { // its parent came, and ended later
			t.filed = t.maxEnd
			g.queue.push(t)
			continue
		}
		g.complete(t)
	}
	w := int64(g.cfg.Window)
	for wm >= g.windowStart+w {
		g.rotate(g.windowStart + w)
		g.windowStart += w
		if wm-g.windowStart > 2*w {
			// A silence: one empty window zeroes the rates, then jump.
			g.rotate(g.windowStart + w)
			g.windowStart = floorDiv(wm, w) * w
		}
	}
}

// awaitsParent reports whether a trace without its root has a client or
// internal span whose parent is not among spans: that parent is in the same
// process (a server span still under way, as client and internal spans are
// not started by a remote caller), so it is still to come. A server span's
// missing parent may be in a process that does not trace, and is not waited
// for.
func (g *Graph) awaitsParent(spans []span) bool {
	// Most traces have their root (a span without a parent): the request
	// ended, and its calls, which ended before it, came before it. One pass
	// over the spans then decides, not a parent lookup per span.
	for i := range spans {
		if !spans[i].hasParent() {
			return false
		}
	}
	small := len(spans) <= smallTrace
	if !small { // find looks large traces up in g.idx, which analyse refills
		clear(g.idx)
		for i := range spans {
			g.idx[spans[i].SpanID] = i
		}
	}
	for i := range spans {
		s := &spans[i]
		if !s.hasParent() || s.Kind.isServer() {
			continue
		}
		if _, ok := g.find(spans, small, s.ParentID); !ok {
			return true
		}
	}
	return false
}

// pairOf is the key of the pair of services a and b, in name order.
func pairOf(a, b *serviceNode) pairKey {
	if b.name < a.name {
		return pairKey{b, a}
	}
	return pairKey{a, b}
}

func (g *Graph) complete(t *pendingTrace) {
	if g.lastTrace == t {
		g.lastTrace = nil
	}
	delete(g.pending, traceKey(t.id))
	g.pendingSpans -= len(t.spans)
	g.analyse(t.spans, t.maxEnd)
	if len(g.free) < maxFreeTraces && cap(t.spans) <= 256 {
		t.spans = t.spans[:0]
		g.free = append(g.free, t)
	}
}

// Flush analyses every buffered trace now (used at shutdown and in tests).
func (g *Graph) Flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.queue.len() > 0 {
		g.complete(g.queue.pop())
	}
	for g.waiting.len() > 0 {
		g.complete(g.waiting.pop())
	}
	g.waitingSpans = 0
}

// Rotate closes the current rate window as if the watermark had passed it
// and evaluates expiry and critical paths (used in tests and at shutdown).
func (g *Graph) Rotate() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rotate(g.windowStart + int64(g.cfg.Window))
	g.windowStart += int64(g.cfg.Window)
}

func (g *Graph) publish(e Event) { g.feed.events.Publish(e) }

func (g *Graph) service(name string, at int64, virtual bool) *serviceNode {
	if n, ok := g.services[name]; ok {
		if !virtual {
			n.virtual = false
		}
		return n
	}
	if len(g.services) >= g.cfg.MaxServices {
		g.stats.OverflowServices++
		name = Overflow
		if n, ok := g.services[name]; ok {
			return n
		}
	}
	n := &serviceNode{name: name, virtual: virtual, firstSeen: at, lastSeen: at, ops: make(map[string]*opStats),
		opIDs: make(map[nameID]*opStats), out: make(map[*serviceNode]*edge)}
	g.services[name] = n
	g.publish(Event{Type: ServiceAdded, Time: time.Unix(0, at), Service: name})
	return n
}

// serviceOf is service(name, at, virtual) for an interned name, with the
// live node of each name remembered.
func (g *Graph) serviceOf(id nameID, at int64, virtual bool) *serviceNode {
	if int(id) < len(g.nodes) {
		if n := g.nodes[id]; n != nil {
			if !virtual {
				n.virtual = false
			}
			return n
		}
	}
	name := g.nameStrs[id]
	n := g.service(name, at, virtual)
	if n.name == name { // not the overflow sink standing in for it
		if int(id) >= len(g.nodes) {
			g.nodes = append(g.nodes, make([]*serviceNode, len(g.nameStrs)-len(g.nodes))...)
		}
		g.nodes[id] = n
	}
	return n
}

// opOf is op(n, name) for an interned name.
func (g *Graph) opOf(n *serviceNode, id nameID) *opStats {
	if o, ok := n.opIDs[id]; ok {
		return o
	}
	o := g.op(n, g.nameStrs[id])
	if o != g.overflowOp {
		n.opIDs[id] = o
	}
	return o
}

func (g *Graph) op(n *serviceNode, name string) *opStats {
	if o, ok := n.ops[name]; ok {
		return o
	}
	if g.nOps >= g.cfg.MaxOperations {
		// One shared sink outside every service keeps the cap strict; what
		// lands there is only counted.
		g.stats.OverflowOperations++
		if g.overflowOp == nil {
			g.overflowOp = &opStats{callees: make(map[string]uint64)}
		}
		if len(g.overflowOp.callees) > 0 {
			clear(g.overflowOp.callees)
		}
		return g.overflowOp
	}
	o := &opStats{callees: make(map[string]uint64)}
	n.ops[name] = o
	g.nOps++
	return o
}

func (g *Graph) analyse(spans []span, at int64) {
	g.stats.Traces++
	n := len(spans)
	if n > smallTrace {
		clear(g.idx)
	}
	g.parent = resize(g.parent, n)
	g.entry = resize(g.entry, n)
	g.firstCh = resize(g.firstCh, n)
	g.nextSib = resize(g.nextSib, n)
	if cap(g.paired) < n {
		g.paired = make([]bool, n)
	}
	g.paired = g.paired[:n]
	clear(g.paired)
	g.calls = g.calls[:0]

	// Small traces (the common case) find spans by scanning; large ones
	// through the map.
	small := n <= smallTrace
	// Drop repeated span IDs; spans move only after the first repeat.
	kept := 0
	for i := range spans {
		if _, dup := g.find(spans[:kept], small, spans[i].SpanID); dup {
			g.stats.DuplicateSpans++
			continue
		}
		if !small {
			g.idx[spans[i].SpanID] = kept
		}
		if kept != i {
			spans[kept] = spans[i]
		}
		kept++
	}
	spans = spans[:kept]
	n = len(spans)
	// Resolve service names (caps) once, and the tree.
	if cap(g.names) < n {
		g.names = make([]*serviceNode, n)
	}
	names := g.names[:n]
	for i := range spans {
		s := &spans[i]
		node := g.serviceOf(s.svc, s.Start, false)
		names[i] = node
		node.spans++
		if s.End > node.lastSeen {
			node.lastSeen = s.End
		}
		g.parent[i] = -1
		g.entry[i] = -2
		g.firstCh[i] = -1
		g.nextSib[i] = -1
		if s.hasParent() {
			if p, ok := g.find(spans, small, s.ParentID); ok && p != i {
				g.parent[i] = p
			} else if s.Kind.isServer() {
				g.stats.OrphanSpans++
			}
		}
	}
	for i := n - 1; i >= 0; i-- {
		if p := g.parent[i]; p >= 0 {
			g.nextSib[i] = g.firstCh[p]
			g.firstCh[p] = i
		}
	}
	// Calls: a server span under a span of another service or under a
	// client span; else a client span naming its peer.
	for i := range spans {
		s := &spans[i]
		p := g.parent[i]
		if !s.Kind.isServer() || p < 0 {
			continue
		}
		ps := &spans[p]
		if names[p] == names[i] && !ps.Kind.isClient() {
			continue
		}
		c := call{from: names[p], to: names[i], entry: g.entryOf(spans, names, p), start: s.Start, end: s.End, err: s.Error || ps.Error}
		if ps.Kind.isClient() {
			g.paired[p] = true
			c.start, c.end = ps.Start, ps.End
		}
		g.calls = append(g.calls, c)
	}
	for i := range spans {
		s := &spans[i]
		if !s.Kind.isClient() || g.paired[i] {
			continue
		}
		if s.peer == 0 {
			g.stats.UnpairedClients++
			continue
		}
		callee := g.serviceOf(s.peer, s.Start, true)
		if s.End > callee.lastSeen {
			callee.lastSeen = s.End
		}
		g.calls = append(g.calls, call{from: names[i], to: callee, entry: g.entryOf(spans, names, i), start: s.Start, end: s.End, err: s.Error})
	}
	g.recordCalls(spans, names, at)
	g.recordCriticalPaths(spans, names)
}

// entryOf is the invocation a span belongs to: its nearest ancestor (or
// itself) that is a server span of the same service, else the topmost span
// of its service's chain.
func (g *Graph) entryOf(spans []span, names []*serviceNode, i int) int {
	if g.entry[i] != -2 {
		return g.entry[i]
	}
	cur, steps := i, 0
	for {
		if spans[cur].Kind.isServer() {
			break
		}
		p := g.parent[cur]
		if p < 0 || names[p] != names[cur] || steps > len(spans) {
			break
		}
		cur = p
		steps++
	}
	g.entry[i] = cur
	return cur
}

func (g *Graph) recordCalls(spans []span, names []*serviceNode, at int64) {
	// Invocations: every entry span.
	if cap(g.entryOp) < len(spans) {
		g.entryOp = make([]*opStats, len(spans))
	}
	entryOp := g.entryOp[:len(spans)]
	for i := range spans {
		entryOp[i] = nil
		if g.entryOf(spans, names, i) == i {
			o := g.opOf(names[i], spans[i].op)
			o.invocations++
			entryOp[i] = o
		}
	}
	slices.SortStableFunc(g.calls, func(a, b call) int {
		if a.entry != b.entry {
			return a.entry - b.entry
		}
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})
	pairs := g.pairAcc[:0]
	for lo := 0; lo < len(g.calls); {
		hi := lo
		for hi < len(g.calls) && g.calls[hi].entry == g.calls[lo].entry {
			hi++
		}
		group := g.calls[lo:hi]
		e := group[0].entry
		o := entryOp[e]
		if o == nil || o == g.overflowOp {
			// The overflow sink counts every look-up.
			o = g.opOf(names[e], spans[e].op)
		}
		o.calls += uint64(len(group))
		if uint64(len(group)) > o.maxCalls {
			o.maxCalls = uint64(len(group))
		}
		if len(group) >= 2 {
			o.multiCall++
			seq := true
			var sum, maxDur int64
			for k := range group {
				d := group[k].end - group[k].start
				sum += d
				maxDur = max(maxDur, d)
				if k > 0 && group[k].start < group[k-1].end {
					seq = false
				}
			}
			if seq {
				o.sequential++
				o.savableNs += float64(sum - maxDur)
			}
		}
		for _, c := range group {
			if _, ok := o.callees[c.to.name]; ok || len(o.callees) < maxCalleesPerOp {
				o.callees[c.to.name]++
			}
			g.recordEdge(c, at)
			if c.from != c.to {
				k, dir := pairOf(c.from, c.to), uint8(1)
				if k.a != c.from {
					dir = 2
				}
				pairs = g.pairAdd(pairs, k, dir)
			}
		}
		lo = hi
	}
	for _, acc := range pairs {
		k := acc.key
		ps, ok := g.pairs[k]
		if !ok {
			if len(g.pairs) >= g.cfg.MaxEdges {
				g.stats.OverflowEdges++
				continue
			}
			ps = &pairStats{}
			g.pairs[k] = ps
		}
		ps.traces++
		ps.calls += acc.calls
		if acc.dirs == 3 {
			ps.bothWays++
		}
	}
	clear(pairs)
	g.pairAcc = pairs[:0]
	if len(g.pairIdx) > 0 {
		clear(g.pairIdx)
	}
}

// pairAdd counts one call between the services of k in the trace's pair
// scratch: a short list, indexed by a map once it is long.
func (g *Graph) pairAdd(pairs []pairScratch, k pairKey, dir uint8) []pairScratch {
	i := -1
	if len(pairs) <= smallPairs {
		for j := range pairs {
			if pairs[j].key == k {
				i = j
				break
			}
		}
	} else {
		if len(g.pairIdx) == 0 {
			for j := range pairs {
				g.pairIdx[pairs[j].key] = j
			}
		}
		if j, ok := g.pairIdx[k]; ok {
			i = j
		}
	}
	if i < 0 {
		i = len(pairs)
		pairs = append(pairs, pairScratch{key: k})
		if len(pairs) > smallPairs+1 {
			g.pairIdx[k] = i
		}
	}
	pairs[i].dirs |= dir
	pairs[i].calls++
	return pairs
}

// smallPairs is the most service pairs of a trace looked up by scanning.
const smallPairs = 16

// smallTrace is the largest trace analysed without the span index map.
const smallTrace = 16

type pairScratch struct {
	key   pairKey
	dirs  uint8
	calls uint64
}

// find returns the index of span id among spans.
func (g *Graph) find(spans []span, small bool, id [8]byte) (int, bool) {
	if small {
		for i := range spans {
			if spans[i].SpanID == id {
				return i, true
			}
		}
		return -1, false
	}
	i, ok := g.idx[id]
	return i, ok
}

func (g *Graph) recordEdge(c call, at int64) {
	e, ok := c.from.out[c.to]
	if !ok {
		if len(g.edges) >= g.cfg.MaxEdges {
			g.stats.OverflowEdges++
			return
		}
		e = &edge{firstSeen: c.start}
		g.edges[edgeKey{c.from, c.to}] = e
		c.from.out[c.to] = e
		g.publish(Event{Type: EdgeAdded, Time: time.Unix(0, at), From: c.from.name, To: c.to.name})
	}
	e.calls++
	e.curCalls++
	if c.err {
		e.errors++
		e.curEr++
	}
	e.lat.add(time.Duration(c.end - c.start))
	if c.end > e.lastSeen {
		e.lastSeen = c.end
	}
}

// recordCriticalPaths follows, from each root, the child that ended last:
// the chain of services that decided the request's completion.
func (g *Graph) recordCriticalPaths(spans []span, names []*serviceNode) {
	for r := range spans {
		if g.parent[r] >= 0 {
			continue
		}
		buf := append(g.pathBuf[:0], names[r].name...)
		last := names[r]
		cur, steps := r, 0
		for steps <= len(spans) {
			best := -1
			for c := g.firstCh[cur]; c >= 0; c = g.nextSib[c] {
				if best < 0 || spans[c].End > spans[best].End {
					best = c
				}
			}
			if best < 0 {
				break
			}
			cur = best
			if n := names[cur]; n != last {
				buf = append(buf, pathSep...)
				buf = append(buf, n.name...)
				last = n
			}
			steps++
		}
		g.pathBuf = buf
		key := opKey{names[r].name, g.nameStrs[spans[r].op]}
		rp, ok := g.roots[key]
		if !ok {
			if len(g.roots) >= g.cfg.MaxOperations {
				g.stats.OverflowOperations++
				continue
			}
			rp = &rootPaths{counts: make(map[string]*float64)}
			g.roots[key] = rp
		}
		if c, ok := rp.counts[string(buf)]; ok {
			*c++
			continue
		}
		if len(rp.counts) >= maxPathsPerRoot {
			g.stats.OverflowPaths++
			continue
		}
		one := 1.0
		rp.counts[string(buf)] = &one
	}
}

const pathSep = "\x00"

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, pathSep)
}

// rotate closes the rate window ending at end, expires what is stale and
// publishes critical path changes.
func (g *Graph) rotate(end int64) {
	secs := g.cfg.Window.Seconds()
	at := time.Unix(0, end)
	horizon := end - int64(g.cfg.Expiry)
	edgeKeys := make([]edgeKey, 0, len(g.edges))
	for k := range g.edges {
		edgeKeys = append(edgeKeys, k)
	}
	sort.Slice(edgeKeys, func(i, j int) bool {
		if edgeKeys[i].from.name != edgeKeys[j].from.name {
			return edgeKeys[i].from.name < edgeKeys[j].from.name
		}
		return edgeKeys[i].to.name < edgeKeys[j].to.name
	})
	removeEdge := func(k edgeKey) {
		if _, ok := g.edges[k]; ok {
			delete(g.edges, k)
			delete(k.from.out, k.to)
			// A pair of services goes with the last edge between them (it
			// counted against MaxEdges for good before).
			if _, back := g.edges[edgeKey{k.to, k.from}]; !back {
				delete(g.pairs, pairOf(k.from, k.to))
			}
			g.publish(Event{Type: EdgeRemoved, Time: at, From: k.from.name, To: k.to.name})
		}
	}
	for _, k := range edgeKeys {
		e := g.edges[k]
		e.rate = float64(e.curCalls) / secs
		e.errRate = 0
		if e.curCalls > 0 {
			e.errRate = float64(e.curEr) / float64(e.curCalls)
		}
		e.curCalls, e.curEr = 0, 0
		if e.lastSeen < horizon {
			removeEdge(k)
		}
	}
	var gone []string
	for name, n := range g.services {
		if n.lastSeen < horizon {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	for _, name := range gone {
		n := g.services[name]
		for _, k := range edgeKeys {
			if k.from.name == name || k.to.name == name {
				removeEdge(k)
			}
		}
		for k := range g.pairs {
			if k.a.name == name || k.b.name == name {
				delete(g.pairs, k)
			}
		}
		g.nOps -= len(n.ops)
		delete(g.services, name)
		clear(g.nodes)
		g.publish(Event{Type: ServiceRemoved, Time: at, Service: name})
	}
	if len(gone) > 0 {
		g.forgetPaths(gone)
	}
	roots := make([]opKey, 0, len(g.roots))
	for k := range g.roots {
		roots = append(roots, k)
	}
	sort.Slice(roots, func(i, j int) bool {
		if roots[i].service != roots[j].service {
			return roots[i].service < roots[j].service
		}
		return roots[i].op < roots[j].op
	})
	for _, k := range roots {
		rp := g.roots[k]
		dom := rp.dominantPath()
		// Hysteresis: a new path must clearly beat the old one.
		if dom != rp.dominant && dom != "" && (rp.dominant == "" || rp.count(dom) > 1.25*rp.count(rp.dominant)) {
			g.publish(Event{Type: CriticalPathChanged, Time: at, Root: k.service + " " + k.op,
				OldPath: splitPath(rp.dominant), NewPath: splitPath(dom)})
			rp.dominant = dom
		}
		for p, c := range rp.counts {
			// Halve the evidence each window so the path follows change.
			if *c /= 2; *c < 0.01 {
				delete(rp.counts, p)
			}
		}
	}
}

// forgetPaths drops the roots of the services gone (sorted), also those of
// operations that went to the overflow operation (not in the service's
// ops), and every path through them, in one pass over the roots. A
// dominant path through a gone service is replaced by the next one (see
// rotate); a root with no path left goes.
func (g *Graph) forgetPaths(gone []string) {
	through := func(p string) bool {
		return slices.ContainsFunc(splitPath(p), func(s string) bool { _, ok := slices.BinarySearch(gone, s); return ok })
	}
	for k, rp := range g.roots {
		if _, ok := slices.BinarySearch(gone, k.service); ok {
			delete(g.roots, k)
			continue
		}
		for p := range rp.counts {
			if through(p) {
				delete(rp.counts, p)
			}
		}
		if len(rp.counts) == 0 && through(rp.dominant) {
			delete(g.roots, k)
		}
	}
}

func (rp *rootPaths) dominantPath() string {
	best, bestN := "", 0.0
	for p, c := range rp.counts {
		if *c > bestN || (*c == bestN && p < best) {
			best, bestN = p, *c
		}
	}
	return best
}

func (rp *rootPaths) count(p string) float64 {
	if c, ok := rp.counts[p]; ok {
		return *c
	}
	return 0
}

func resize(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
