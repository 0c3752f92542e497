package sim

// Event kinds.
const (
	evTick uint8 = iota // highest priority at equal times: ticks close [t-tick, t)
	evControl
	evArrival
	evVisitArrive
	evComputeDone
	evReturn
	evTimeout
	evInstanceReady
)

type event struct {
	t    int64
	seq  uint64
	kind uint8
	v    *visit
	a    *attempt
	x    any // control payload
}

// less orders by time, then ticks and controls first, then scheduling order.
func (e *event) less(o *event) bool {
	if e.t != o.t {
		return e.t < o.t
	}
	pe, po := e.kind <= evControl, o.kind <= evControl
	if pe != po {
		return pe
	}
	return e.seq < o.seq
}

// queue is a binary min-heap of events.
type queue struct {
	h   []event
	seq uint64
}

func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.h = append(q.h, e)
	h := q.h
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *queue) pop() event {
	h := q.h
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = event{}
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].less(&h[l]) {
			m = r
		}
		if !h[m].less(&h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	q.h = h
	return top
}

func (q *queue) len() int { return len(q.h) }
