package thrifttracing

import (
	"sync"
	"sync/atomic"
	"testing"
)

func spanN(i int) SpanData { return SpanData{OutstandingRequests: int32(i)} }

func TestRingFIFOAndFull(t *testing.T) {
	for _, tc := range []struct{ size, want int }{{0, 1}, {1, 1}, {5, 8}, {8, 8}, {9, 16}} {
		if got := newSpanRing(tc.size).cap(); got != tc.want {
			t.Errorf("newSpanRing(%d).cap() = %d, want %d", tc.size, got, tc.want)
		}
	}
	r := newSpanRing(4)
	var out SpanData
	if r.pop(&out) || r.len() != 0 {
		t.Fatal("empty ring gave a span")
	}
	next := 0 // laps around the ring several times
	for lap := range 5 {
		for i := range 4 {
			s := spanN(lap*4 + i)
			if fill, ok := r.push(&s); !ok || fill != i+1 {
				t.Fatalf("lap %d: push %d: fill %d ok %v", lap, i, fill, ok)
			}
		}
		s := spanN(-1)
		if _, ok := r.push(&s); ok || r.len() != 4 {
			t.Fatalf("lap %d: full ring took a span (len %d)", lap, r.len())
		}
		for range 4 {
			if !r.pop(&out) || out.OutstandingRequests != int32(next) {
				t.Fatalf("popped %d, want %d", out.OutstandingRequests, next)
			}
			next++
		}
	}
}

// TestRingConcurrent has producers push distinct spans while the consumer
// pops: every span must come out exactly once or be reported as refused.
func TestRingConcurrent(t *testing.T) {
	const producers, each = 4, 20000
	r := newSpanRing(64)
	var refused atomic.Int64
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				s := spanN(p*each + i)
				if _, ok := r.push(&s); !ok {
					refused.Add(1)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := make([]bool, producers*each)
	got := 0
	var out SpanData
	lastOf := make([]int, producers) // FIFO per producer
	for i := range lastOf {
		lastOf[i] = -1
	}
	drain := func() {
		for r.pop(&out) {
			v := int(out.OutstandingRequests)
			if seen[v] {
				t.Fatalf("span %d popped twice", v)
			}
			seen[v] = true
			got++
			if p := v / each; v%each <= lastOf[p] {
				t.Fatalf("producer %d: %d after %d", p, v%each, lastOf[p])
			} else {
				lastOf[p] = v % each
			}
		}
	}
	for {
		select {
		case <-done:
			drain()
			if int64(got)+refused.Load() != producers*each || r.len() != 0 {
				t.Fatalf("popped %d + refused %d != pushed %d (len %d)", got, refused.Load(), producers*each, r.len())
			}
			return
		default:
			drain()
		}
	}
}
