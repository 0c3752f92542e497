package sim

// Event kinds.
const (
	evTick uint8 = iota // ticks and controls run first at equal times
	evControl
	evArrival
	evVisitArrive
	evComputeDone
	evReturn
	evTimeouts
	evInstanceReady
)

// event is what an entry of the queue refers to.
type event struct {
	t    int64
	kind uint8
	v    *visit
	a    *attempt
	x    any // control payload, timeout queue, instance
}

// entry is a heap element: pointer-free, so sifting is cheap and never
// touches the garbage collector's write barrier.
type entry struct {
	t   int64
	key uint64 // priority bit, then scheduling order
	idx uint32 // slot in queue.slab
}

func (e *entry) less(o *entry) bool {
	if e.t != o.t {
		return e.t < o.t
	}
	return e.key < o.key
}

// queue is a 4-ary min-heap of entries over a slab of events, ordered by
// time, then ticks and controls first, then scheduling order.
type queue struct {
	h    []entry
	slab []event
	free []uint32
	seq  uint64
}

func (q *queue) push(e event) {
	q.seq++
	key := q.seq
	if e.kind > evControl {
		key |= 1 << 63
	}
	var idx uint32
	if n := len(q.free); n > 0 {
		idx = q.free[n-1]
		q.free = q.free[:n-1]
		q.slab[idx] = e
	} else {
		idx = uint32(len(q.slab))
		q.slab = append(q.slab, e)
	}
	q.h = append(q.h, entry{t: e.t, key: key, idx: idx})
	h := q.h
	i := len(h) - 1
	x := h[i]
	for i > 0 {
		p := (i - 1) / 4
		if !x.less(&h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = x
}

func (q *queue) pop() event {
	h := q.h
	top := h[0]
	n := len(h) - 1
	x := h[n]
	h = h[:n]
	if n > 0 {
		i := 0
		for {
			c := 4*i + 1
			if c >= n {
				break
			}
			m := c
			for k := c + 1; k < c+4 && k < n; k++ {
				if h[k].less(&h[m]) {
					m = k
				}
			}
			if !h[m].less(&x) {
				break
			}
			h[i] = h[m]
			i = m
		}
		h[i] = x
	}
	q.h = h
	e := q.slab[top.idx]
	q.slab[top.idx] = event{}
	q.free = append(q.free, top.idx)
	return e
}

func (q *queue) len() int { return len(q.h) }
