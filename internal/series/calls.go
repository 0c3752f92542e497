package series

import "math"

// The Engine joins each CLIENT span with the SERVER span it called (the
// SERVER span's parent is the CLIENT span) to measure the callee's Network
// time: what the caller waited beyond the callee's own stay. The two halves
// come in any order, from different services' exporters; the first waits in
// Engine.calls for the other: a CLIENT half until the watermark passes its
// end, a SERVER half one allowed lateness longer, in all two to three ring
// lengths at most (halves are swept every ring length). CLIENT spans move the
// watermark as SERVER spans do: their ends are event time too. A CLIENT span
// repeated after its call was joined is counted as unmatched, not as a
// duplicate (joined calls are not remembered). A failed CLIENT span is
// counted in its callee's Failed at once (failedCall) and waits as a half
// too, until the watermark passes its end, only so that a repeat of it is a
// duplicate and the SERVER span of an error reply is not joined.

// callHalf is the half of a call that came first.
type callHalf struct {
	server bool
	// failed marks a failed CLIENT half, already counted in its callee's
	// Failed: it waits only to catch a repeat of itself (a duplicate) and
	// the SERVER span of an error reply, which must not count in Network.
	failed bool
	// in is the SERVER span's instance (as mapped for the overflow).
	in *instance
	// end and dur are the half's end (Unix ns) and duration.
	end, dur int64
	// w is the half's weight (1/sampling probability).
	w float64
}

// addCall takes a CLIENT span.
func (e *Engine) addCall(s *Span) {
	if s.End < s.Start || s.End-s.Start > int64(MaxSpanDuration) {
		e.stats.CallsInvalid++
		return
	}
	F := e.clock(s.End)
	if s.End < F {
		e.stats.CallsLate++
		return
	}
	w := s.Weight
	if !(w > 0) || math.IsInf(w, 0) {
		w = 1
	}
	k := spanKey(s.TraceID, s.SpanID)
	h, ok := e.calls[k]
	if ok && !h.server {
		e.stats.CallsDuplicate++
		return
	}
	if s.Failed {
		// Waits for a repeat of itself; an error reply's SERVER span that
		// came first is dropped (no network time).
		e.calls[k] = callHalf{failed: true, end: s.End}
		e.callsPeak = max(e.callsPeak, len(e.calls))
		e.failedCall(s.Peer, w, s.End)
		return
	}
	if !ok {
		e.calls[k] = callHalf{end: s.End, dur: s.End - s.Start, w: w}
		e.callsPeak = max(e.callsPeak, len(e.calls))
		return
	}
	delete(e.calls, k)
	e.join(h.in, h.dur, max(h.w, w), s.End, s.End-s.Start)
}

// failedCall counts a failed call into service peer at the tick of end,
// split equally over the service's live instances: a lost request names no
// instance, and a balancer spreads calls evenly over a service's instances.
// A live instance that has stopped sending spans takes its share until it
// expires; a service mapped to the global overflow series has no live
// instances of its own, so its failed calls count as CallsNoPeer.
func (e *Engine) failedCall(peer string, w float64, end int64) {
	ins := e.services[peer]
	if len(ins) == 0 {
		e.stats.CallsNoPeer++
		return
	}
	slot := e.slot(floorDiv(end, e.tick))
	share := w / float64(len(ins))
	for _, in := range ins {
		in.ring[slot].failed += share
		// The series must live until that tick is emitted, but a failed
		// call is no sign of life: an instance that sends no spans still
		// expires while calls into its service fail.
		in.hold = max(in.hold, end)
	}
	e.stats.CallsFailed++
}

// serverHalf pairs an accepted SERVER span of inst with its CLIENT span, or
// leaves it waiting for it. A second SERVER span under the same CLIENT span
// (a retried delivery, a fan-out) is not paired.
func (e *Engine) serverHalf(inst *instance, s *Span) {
	k := spanKey(s.TraceID, s.ParentID)
	h, ok := e.calls[k]
	if !ok {
		e.calls[k] = callHalf{server: true, in: inst, end: s.End, dur: s.End - s.Start, w: s.Weight}
		e.callsPeak = max(e.callsPeak, len(e.calls))
		return
	}
	if h.server {
		return
	}
	delete(e.calls, k)
	if h.failed {
		return // an error reply: counted in Failed, not in Network
	}
	e.join(inst, s.End-s.Start, max(s.Weight, h.w), h.end, h.dur)
}

// join counts one call into the Network time of the callee instance in, at
// the tick of the CLIENT span's end, with the weight of the less likely
// sampled half (under per-trace sampling both have the same).
func (e *Engine) join(in *instance, serverDur int64, w float64, clientEnd, clientDur int64) {
	gap := clientDur - serverDur
	if gap < 0 {
		e.stats.CallsInvalid++
		return
	}
	if clientEnd < e.nextTick*e.tick || in.removed {
		// Final already, or the callee's series expired meanwhile.
		e.stats.CallsLate++
		return
	}
	in.ring[e.slot(floorDiv(clientEnd, e.tick))].net.Add(gap, w)
	// The series must live until that tick is emitted.
	in.lastSeen = max(in.lastSeen, clientEnd)
	e.stats.CallsMatched++
}

// sweepCalls forgets the halves that can no longer be counted, the
// watermark being at F: a CLIENT half whose tick is final, and a SERVER half
// that ended more than one allowed lateness before it (its caller's reply
// would have to have taken longer than that).
func (e *Engine) sweepCalls(F int64) {
	for k, h := range e.calls {
		switch {
		case !h.server && h.end < F:
			if !h.failed {
				e.stats.CallsUnmatched++
			}
			delete(e.calls, k)
		case h.server && h.end < F-e.late:
			delete(e.calls, k)
		}
	}
	e.shrinkCalls()
}

// callsShrinkMin is the fewest halves a burst must have left room for
// before shrinkCalls copies the map: below it the memory is not worth a copy.
const callsShrinkMin = 1 << 14

// shrinkCalls copies e.calls into a new map once it holds under a quarter of
// its peak: a Go map keeps the buckets of its largest size, so a burst of
// waiting halves (an untraced callee, a stalled exporter) would otherwise pin
// that memory for the collector's lifetime.
func (e *Engine) shrinkCalls() {
	n := len(e.calls)
	if e.callsPeak < callsShrinkMin || n >= e.callsPeak/4 {
		return
	}
	m := make(map[uint64]callHalf, n)
	for k, h := range e.calls {
		m[k] = h
	}
	e.calls, e.callsPeak = m, n
}

// PendingCalls is the number of call halves waiting for the other half.
func (e *Engine) PendingCalls() int { return len(e.calls) }
