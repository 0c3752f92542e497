package thrifttracing

import (
	"math/bits"
	"sync/atomic"
)

// spanRing is the Exporter's bounded buffer: a lock-free ring (D. Vyukov's
// bounded queue) with many producers, the RPC paths, and one consumer, the
// export goroutine. A producer claims a slot with one compare-and-swap and
// never waits: not for a lock that a descheduled goroutine might hold, as a
// channel's would, and not for room, since a full ring drops.
type spanRing struct {
	mask  uint64
	slots []ringSlot
	_     [56]byte // keep enq and deq on their own cache lines
	enq   atomic.Uint64
	_     [56]byte
	deq   atomic.Uint64
}

// ringSlot's seq says whose turn the slot is: seq == pos, a producer may
// fill it for position pos; seq == pos+1, the consumer may take it.
type ringSlot struct {
	seq  atomic.Uint64
	span SpanData
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
				slot.span = *s
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
	*dst = slot.span
	slot.span = SpanData{} // let go of the strings
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
