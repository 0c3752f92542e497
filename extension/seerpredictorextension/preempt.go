package seerpredictorextension

import "time"

// Pre-emption timing. Pausing training only around the inference itself
// was not enough: the training process evicts the serving path from the
// caches, and the inference that follows ran about 4x slower in the tail
// (BenchmarkInferenceWhileTraining, medians of the rounds' p99: 3.5-4.1 ms
// against 0.89-0.96 ms idle).
// So serving pauses training a little before each tick is due and runs a
// throw-away inference to warm up.
const (
	// preemptMargin is how long before the next expected tick the warm-up
	// should be over: the jitter of tick arrival and of the timer. The
	// pause starts this plus two of the last inference's durations before
	// the tick (a warm-up, with room). In BenchmarkInferenceWhileTraining
	// a lead of 5 ms gave 1.25-1.28x the idle p99 and of 2 ms 0.98-1.10x:
	// the shorter the pause, the less training runs in between to evict.
	preemptMargin = time.Millisecond
	// preemptMaxHold bounds a pause while the tick is late, so that a
	// stalled pipeline cannot starve training; it is warmed again before
	// the tick after.
	preemptMaxHold = 20 * time.Millisecond
	// idleWarmShare: while nothing trains, serving warms up only if an
	// inference takes at most 1/idleWarmShare of a tick (2 ms of 100 ms:
	// XLA up to about 500 services), so that the warm-up costs at most 2%
	// of a core; simplego (4-55 ms) warms up only while training runs.
	idleWarmShare = 50
)

// preempter warms the serving path up ahead of each expected tick and,
// while a training process runs, pauses it (through its gate) from then
// through the inference. It warms even when nothing trains if inference is
// cheap (idleWarmShare): caches and idle CPUs cool down between ticks too,
// and the comparison of inference while training against idle stays like
// for like. It is used by one goroutine only (the serving goroutine).
//
// Per 100 ms tick, training loses the margin and about three inferences
// (2.5-4% of its time at 30 services on XLA), and serving spends one extra
// inference.
type preempter struct {
	gate    *gate
	warm    func() // one throw-away inference on the last window
	margin  time.Duration
	maxHold time.Duration
	timer   *time.Timer
	armed   bool
	held    bool
}

func newPreempter(g *gate, warm func()) *preempter {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &preempter{gate: g, warm: warm, margin: preemptMargin, maxHold: preemptMaxHold, timer: t}
}

// C fires when it is time to pause (or, while paused, to give up waiting
// for a late tick); nil when nothing is scheduled.
func (p *preempter) C() <-chan time.Time {
	if !p.armed {
		return nil
	}
	return p.timer.C
}

// fire handles a tick of C.
func (p *preempter) fire() {
	p.armed = false
	if p.held {
		// The tick is late: let training run until it comes.
		p.gate.release()
		p.held = false
		return
	}
	p.gate.hold()
	p.held = true
	p.warm()
	p.timer.Reset(p.maxHold)
	p.armed = true
}

// begin pauses training for an inference (if it is not already paused).
func (p *preempter) begin() {
	if !p.held {
		p.gate.hold()
		p.held = true
	}
}

// end resumes training after an inference that took took, and schedules
// the pause and warm-up before the next tick, expected one tick period
// after this one arrived.
func (p *preempter) end(arrived time.Time, tick, took time.Duration) {
	p.gate.release()
	p.held = false
	p.timer.Stop()
	p.armed = false
	lead := p.margin + 2*took
	if lead >= tick/4 {
		return // ticks too close together to pause between them
	}
	if !p.gate.active() && took > tick/idleWarmShare {
		return // nothing trains, and a warm-up would cost too much
	}
	p.timer.Reset(time.Until(arrived.Add(tick - lead)))
	p.armed = true
}

// stop cancels any schedule and resumes training.
func (p *preempter) stop() {
	p.timer.Stop()
	p.armed = false
	if p.held {
		p.gate.release()
		p.held = false
	}
}
