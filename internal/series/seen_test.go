package series

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSeenSetMatchesMap checks the duplicate table against the Go map it
// replaced: same answers to put, same keys after each sweep.
func TestSeenSetMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s seenSet
	var keep []seenSlot
	want := map[uint64]int64{}
	for tick := int64(0); tick < 400; tick++ {
		n := rng.IntN(300)
		if tick > 200 && tick < 250 {
			n = rng.IntN(3) // the rate falls: the table shrinks
		}
		for range n {
			k := rng.Uint64() % 5000 // repeats and key 0 occur
			if rng.IntN(50) == 0 {
				k = 0
			}
			_, had := want[k]
			want[k] = tick
			if got := s.put(k, tick); got != had {
				t.Fatalf("tick %d key %d: put = %v, want %v", tick, k, got, had)
			}
		}
		if tick%7 == 0 {
			limit := tick - 5
			for k, at := range want {
				if at <= limit {
					delete(want, k)
				}
			}
			keep = s.removeUpTo(limit, keep)
		}
		if s.len() != len(want) {
			t.Fatalf("tick %d: %d keys, want %d", tick, s.len(), len(want))
		}
		for k, at := range want {
			if k == 0 {
				if !s.zero || s.zeroT != at {
					t.Fatalf("tick %d: key 0 lost", tick)
				}
				continue
			}
			if got, ok := s.get(k); !ok || got != at {
				t.Fatalf("tick %d: key %d lost or wrong tick", tick, k)
			}
		}
	}
}

// get returns the tick of key.
func (s *seenSet) get(key uint64) (int64, bool) {
	mask := uint64(len(s.slots) - 1)
	for i := key & mask; ; i = (i + 1) & mask {
		switch s.slots[i].key {
		case key:
			return s.slots[i].t, true
		case 0:
			return 0, false
		}
	}
}

// TestMemoryPerInstance backs the memory figures of the queuedepth
// processor's README: 152 bytes per ring cell and, for duplicate detection,
// 16-byte slots at a load between 1/4 and 1/2 while the table grows (so 32
// to 64 bytes per remembered span ID, at least 64 slots = 1 KB once used).
func TestMemoryPerInstance(t *testing.T) {
	assert.Equal(t, uintptr(152), unsafe.Sizeof(cell{}))
	assert.Equal(t, uintptr(16), unsafe.Sizeof(seenSlot{}))
	var s seenSet
	for n := 1; n <= 10_000; n++ {
		s.put(uint64(n)*0x9e3779b97f4a7c15, 0)
		require.LessOrEqual(t, len(s.slots), max(minSeenSlots, 4*n), "n=%d", n)
		require.GreaterOrEqual(t, len(s.slots), 2*n, "n=%d", n)
	}
}
