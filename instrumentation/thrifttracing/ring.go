package thrifttracing

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// spanRing is the Exporter's bounded buffer: a lock-free ring (D. Vyukov's
// bounded queue) with many producers, the RPC paths, and one consumer, the
// export goroutine. A producer claims a slot with one compare-and-swap and
// never waits: not for a lock that a descheduled goroutine might hold, as a
// channel's would, and not for room, since a full ring drops.
//
// The slots hold spans as ringSpans, without pointers: the garbage collector
// does not scan the ring, and copying spans in and out needs no write
// barriers. Names are interned (see names); a status message, rare, and a
// name that does not fit the name table wait in side, keyed by position.
type spanRing struct {
	mask   uint64
	slots  []ringSlot
	sideMu sync.Mutex
	side   map[uint64]sideStrings
	_      [56]byte // keep enq and deq on their own cache lines
	enq    atomic.Uint64
	_      [56]byte
	deq    atomic.Uint64
}

// ringSlot's seq says whose turn the slot is: seq == pos, a producer may
// fill it for position pos; seq == pos+1, the consumer may take it.
type ringSlot struct {
	seq  atomic.Uint64
	span ringSpan
}

// ringSpan is a SpanData without pointers.
type ringSpan struct {
	TraceID      trace.TraceID
	SpanID       trace.SpanID
	ParentSpanID trace.SpanID
	Kind         seerthrift.SpanKind
	Status       seerthrift.StatusCode

	ClientSendNs, ServerReceiveNs, AppReceiveNs         int64
	ProcessingStartNs, ProcessingEndNs, ClientReceiveNs int64

	OutstandingRequests int32
	op, peer            uint32 // names ids
	side                bool   // strings wait in spanRing.side
}

// sideStrings are the strings of a span that a ringSpan cannot hold.
type sideStrings struct {
	op, peer, msg  string
	hasOp, hasPeer bool // op, peer hold the names (not in the table)
}

// newSpanRing returns a ring of at least size slots (a power of two).
func newSpanRing(size int) *spanRing {
	n := uint64(1)
	if size > 1 {
		n = 1 << bits.Len64(uint64(size-1))
	}
	r := &spanRing{mask: n - 1, slots: make([]ringSlot, n)}
	for i := range r.slots {
		r.slots[i].seq.Store(uint64(i))
	}
	return r
}

// push copies s into the ring, or returns false if it is full. fill is about
// how many spans the ring holds with s.
func (r *spanRing) push(s *SpanData) (fill int, ok bool) {
	pos := r.enq.Load()
	for {
		slot := &r.slots[pos&r.mask]
		seq := slot.seq.Load()
		switch d := int64(seq - pos); {
		case d == 0:
			if r.enq.CompareAndSwap(pos, pos+1) {
				r.fill(&slot.span, pos, s)
				slot.seq.Store(pos + 1) // publish
				// deq may have passed pos already: then the ring is
				// about empty.
				return max(0, int(int64(pos+1-r.deq.Load()))), true
			}
			pos = r.enq.Load()
		case d < 0:
			return len(r.slots), false // the slot still holds a span from a lap ago: full
		default:
			pos = r.enq.Load() // another producer took pos
		}
	}
}

// pop moves the oldest span into dst. It returns false if the ring is empty,
// or if the oldest slot is claimed but not yet written (the next pop gets
// it). Only one goroutine may pop.
func (r *spanRing) pop(dst *SpanData) bool {
	pos := r.deq.Load()
	slot := &r.slots[pos&r.mask]
	if slot.seq.Load() != pos+1 {
		return false
	}
	r.read(dst, &slot.span, pos)
	slot.seq.Store(pos + r.mask + 1)
	r.deq.Store(pos + 1)
	return true
}

// len is the number of spans in the ring, claimed slots included.
func (r *spanRing) len() int {
	d, e := r.deq.Load(), r.enq.Load()
	if e < d { // read deq, then a pop and a push moved both
		return 0
	}
	return int(e - d)
}

func (r *spanRing) cap() int { return len(r.slots) }

// fill writes s into the slot claimed for pos.
func (r *spanRing) fill(d *ringSpan, pos uint64, s *SpanData) {
	*d = ringSpan{
		TraceID: s.TraceID, SpanID: s.SpanID, ParentSpanID: s.ParentSpanID,
		Kind: s.Kind, Status: s.Status,
		ClientSendNs: s.ClientSendNs, ServerReceiveNs: s.ServerReceiveNs, AppReceiveNs: s.AppReceiveNs,
		ProcessingStartNs: s.ProcessingStartNs, ProcessingEndNs: s.ProcessingEndNs, ClientReceiveNs: s.ClientReceiveNs,
		OutstandingRequests: s.OutstandingRequests,
	}
	var side sideStrings
	var ok bool
	if d.op, ok = names.lookup(s.opID, s.Operation); !ok {
		side.op, side.hasOp = s.Operation, true
	}
	if d.peer, ok = names.lookup(s.peerID, s.PeerService); !ok {
		side.peer, side.hasPeer = s.PeerService, true
	}
	side.msg = s.StatusMessage
	if side.hasOp || side.hasPeer || side.msg != "" {
		d.side = true
		r.sideMu.Lock()
		if r.side == nil {
			r.side = make(map[uint64]sideStrings)
		}
		r.side[pos] = side
		r.sideMu.Unlock()
	}
}

// read turns the slot of pos back into a SpanData.
func (r *spanRing) read(dst *SpanData, d *ringSpan, pos uint64) {
	*dst = SpanData{
		TraceID: d.TraceID, SpanID: d.SpanID, ParentSpanID: d.ParentSpanID,
		Operation: names.name(d.op), Kind: d.Kind,
		ClientSendNs: d.ClientSendNs, ServerReceiveNs: d.ServerReceiveNs, AppReceiveNs: d.AppReceiveNs,
		ProcessingStartNs: d.ProcessingStartNs, ProcessingEndNs: d.ProcessingEndNs, ClientReceiveNs: d.ClientReceiveNs,
		OutstandingRequests: d.OutstandingRequests,
		Status:              d.Status, PeerService: names.name(d.peer),
	}
	if d.side {
		r.sideMu.Lock()
		side := r.side[pos]
		delete(r.side, pos)
		r.sideMu.Unlock()
		if side.hasOp {
			dst.Operation = side.op
		}
		if side.hasPeer {
			dst.PeerService = side.peer
		}
		dst.StatusMessage = side.msg
	}
}
