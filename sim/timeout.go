package sim

// timeoutQueue holds the pending attempts of one timeout duration. They
// expire in the order they were sent, so one FIFO and a single event for
// its head replace one heap event per attempt.
type timeoutQueue struct {
	dur   int64
	items []pendingTimeout
	head  int
	armed bool
}

type pendingTimeout struct {
	at int64
	a  *attempt
}

func (s *Sim) timeoutQueueFor(d int64) *timeoutQueue {
	if s.tqs == nil {
		s.tqs = map[int64]*timeoutQueue{}
	}
	tq := s.tqs[d]
	if tq == nil {
		tq = &timeoutQueue{dur: d}
		s.tqs[d] = tq
	}
	return tq
}

func (s *Sim) armTimeout(tq *timeoutQueue, a *attempt) {
	tq.items = append(tq.items, pendingTimeout{at: s.now + tq.dur, a: a})
	if !tq.armed {
		tq.armed = true
		s.q.push(event{t: s.now + tq.dur, kind: evTimeouts, x: tq})
	}
}

// onTimeouts expires the attempts due now and re-arms for the next one.
func (s *Sim) onTimeouts(tq *timeoutQueue) {
	for tq.head < len(tq.items) && tq.items[tq.head].at <= s.now {
		a := tq.items[tq.head].a
		tq.items[tq.head] = pendingTimeout{}
		tq.head++
		s.onTimeout(a)
	}
	if tq.head > 1024 && tq.head*2 > len(tq.items) {
		n := copy(tq.items, tq.items[tq.head:])
		clear(tq.items[n:])
		tq.items = tq.items[:n]
		tq.head = 0
	}
	if tq.head < len(tq.items) {
		s.q.push(event{t: tq.items[tq.head].at, kind: evTimeouts, x: tq})
		return
	}
	tq.armed = false
}
