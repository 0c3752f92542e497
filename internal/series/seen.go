package series

// seenSet maps the span keys (spanKey) accepted recently by one instance to
// the first open tick when they came, for duplicate detection. It replaces a
// Go map: the keys are already well mixed, so an open-addressed table with
// linear probing finds them in one or two cache lines, and the periodic
// sweep rebuilds the table instead of leaving deleted slots behind.
type seenSet struct {
	slots []seenSlot // len is 0 or a power of two; key 0 marks a free slot
	n     int        // keys in slots
	// The key 0 has no slot.
	zero  bool
	zeroT int64
}

type seenSlot struct {
	key uint64
	t   int64
}

// minSeenSlots is the size of a table on first use.
const minSeenSlots = 64

// put records key at tick t and reports whether it was there already; like a
// map assignment it overwrites the tick of a key it has.
func (s *seenSet) put(key uint64, t int64) (had bool) {
	if key == 0 {
		had = s.zero
		s.zero, s.zeroT = true, t
		return had
	}
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := key & mask; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		switch sl.key {
		case key:
			sl.t = t
			return true
		case 0:
			sl.key, sl.t = key, t
			s.n++
			return false
		}
	}
}

func (s *seenSet) grow() {
	old := s.slots
	n := max(2*len(old), minSeenSlots)
	s.slots = make([]seenSlot, n)
	s.n = 0
	for _, sl := range old {
		if sl.key != 0 {
			s.insert(sl)
		}
	}
}

// insert adds a key known to be absent, with room for it.
func (s *seenSet) insert(sl seenSlot) {
	mask := uint64(len(s.slots) - 1)
	i := sl.key & mask
	for s.slots[i].key != 0 {
		i = (i + 1) & mask
	}
	s.slots[i] = sl
	s.n++
}

// len is the number of keys.
func (s *seenSet) len() int {
	if s.zero {
		return s.n + 1
	}
	return s.n
}

// removeUpTo removes the keys recorded at tick limit or before; keep is
// scratch space, returned for reuse.
func (s *seenSet) removeUpTo(limit int64, keep []seenSlot) []seenSlot {
	if s.zero && s.zeroT <= limit {
		s.zero = false
	}
	if s.n == 0 {
		return keep
	}
	keep = keep[:0]
	for _, sl := range s.slots {
		if sl.key != 0 && sl.t > limit {
			keep = append(keep, sl)
		}
	}
	if len(keep) == s.n {
		return keep
	}
	// Shrink a table that emptied out, so an instance whose rate fell
	// does not keep scanning a large one; only well below its size, so a
	// rate that varies does not reallocate at every sweep.
	if n := len(s.slots); n > minSeenSlots && 32*len(keep) < n {
		size := minSeenSlots
		for 8*len(keep) > size {
			size *= 2
		}
		s.slots = make([]seenSlot, size)
	} else {
		clear(s.slots)
	}
	s.n = 0
	for _, sl := range keep {
		s.insert(sl)
	}
	return keep
}
