package export

import (
	"context"
	"time"

	"github.com/seer-qos/seer/sim"
)

// Pacer holds spans back until the wall clock catches up with their end
// time divided by Speed (1: real time, 10: ten times faster). Spans come in
// end-time order, so pacing on them paces the whole run.
type Pacer struct {
	ctx       context.Context
	next      sim.SpanSink
	speed     float64
	simStart  int64
	wallStart time.Time
	n         int
}

// NewPacer paces spans whose event times start at simStart.
func NewPacer(ctx context.Context, next sim.SpanSink, speed float64, simStart int64) *Pacer {
	return &Pacer{ctx: ctx, next: next, speed: speed, simStart: simStart, wallStart: time.Now()}
}

// Span waits, when ahead of the clock, then passes the span on.
func (p *Pacer) Span(sp *sim.Span) error {
	p.n++
	if p.n%64 == 0 {
		due := p.wallStart.Add(time.Duration(float64(sp.End-p.simStart) / p.speed))
		if d := time.Until(due); d > time.Millisecond {
			t := time.NewTimer(d)
			select {
			case <-p.ctx.Done():
				t.Stop()
				return p.ctx.Err()
			case <-t.C:
			}
		}
	}
	return p.next.Span(sp)
}
