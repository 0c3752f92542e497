package socialnetwork

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seer-qos/seer/instrumentation/thrifttracing"
)

// ServiceConfig is the local work of one service.
type ServiceConfig struct {
	// Workers is how many requests do their local work at once; the others
	// wait for a worker, which is where queueing happens.
	Workers int
	// Work is the mean local work per request, drawn from an exponential
	// distribution with this mean and capped at ten times it. Negative
	// means none.
	Work time.Duration
	// Sleep makes the work a sleep (I/O) instead of busy computation.
	Sleep bool
	// HitRatio is the fraction of a cache's gets that find their key
	// (caches only).
	HitRatio float64
}

// defaultServiceConfig is the local work of each tier, a little lighter
// than the simulator's topology so that the whole application fits a small
// machine at a few hundred requests per second.
func defaultServiceConfig(t Tier) ServiceConfig {
	switch t {
	case TierFront:
		return ServiceConfig{Workers: 8, Work: 50 * time.Microsecond}
	case TierCache:
		return ServiceConfig{Workers: 4, Work: 20 * time.Microsecond, HitRatio: 0.9}
	case TierStorage:
		return ServiceConfig{Workers: 16, Work: 700 * time.Microsecond, Sleep: true}
	default:
		return ServiceConfig{Workers: 4, Work: 100 * time.Microsecond}
	}
}

func (c ServiceConfig) withDefaults(t Tier) ServiceConfig {
	d := defaultServiceConfig(t)
	if c.Workers <= 0 {
		c.Workers = d.Workers
	}
	if c.Work == 0 {
		c.Work = d.Work
	}
	if c.HitRatio == 0 {
		c.HitRatio = d.HitRatio
	}
	if t == TierStorage && !c.Sleep {
		c.Sleep = d.Sleep
	}
	return c
}

// workers runs the local work of one service on a bounded pool, and is
// where faults act on the service: a CPU hog takes turns on the workers,
// a delay and the service lock are taken on a worker.
type workers struct {
	cfg ServiceConfig
	sem chan struct{}
	// delay is the sum of the active delay faults, in nanoseconds.
	delay atomic.Int64
	// mu guards the service's shared state (served), which every request
	// updates; lock-contention faults hold it from a background goroutine.
	mu     sync.Mutex
	served int64
}

func newWorkers(cfg ServiceConfig) *workers {
	return &workers{cfg: cfg, sem: make(chan struct{}, cfg.Workers)}
}

// do waits for a worker, marks the span's processing start, and does the
// request's local work, scale times the service's mean.
func (w *workers) do(ctx context.Context, scale float64) error {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.sem }()
	thrifttracing.MarkProcessingStart(ctx)
	if d := w.delay.Load(); d > 0 {
		if err := sleepCtx(ctx, time.Duration(d)); err != nil {
			return err
		}
	}
	mean := time.Duration(scale * float64(w.cfg.Work))
	d := time.Duration(0)
	if mean > 0 {
		d = min(time.Duration(rand.ExpFloat64()*float64(mean)), 10*mean)
	}
	if w.cfg.Sleep {
		if err := sleepCtx(ctx, d); err != nil { // simulated I/O, not synchronisation
			return err
		}
		d = 0
	}
	// Every request updates the service's shared state under its lock.
	w.mu.Lock()
	w.served++
	w.mu.Unlock()
	spin(d)
	return nil
}

// spin computes for d: busy work is exact at the microsecond scale and
// competes for cores as request processing does.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// effect is a fault's action on a service. set scales it to level, the
// fraction of its full magnitude reached (in [0, 1], never decreasing: a
// ramp only grows); stop ends it and waits until it has stopped. set and
// stop are called from one goroutine; magnitude, the effective magnitude in
// the units of FaultSpec.Magnitude, may be read from any.
type effect interface {
	set(level float64)
	magnitude() float64
	stop()
}

// Hog timing: a hog goroutine at full magnitude keeps a worker for
// hogSlice before queueing for it again, and while it keeps it, spins for hogSpin out of every
// hogSpin+hogRest. A hog that spun flat out would starve the whole process
// on a small machine (and Go's network poller with it), slowing every
// service alike; the demo's point is a culprit, so the hog burns a tenth of
// a core per goroutine and does its harm by taking the service's workers.
const (
	hogSlice = 20 * time.Millisecond
	hogSpin  = 100 * time.Microsecond
	hogRest  = 900 * time.Microsecond
)

// hogEffect is a CPU hog of n goroutines that queue for the service's
// workers like requests do and burn CPU on them: the hog takes this
// service's workers as a co-located job takes a service's cores, and burns
// real CPU while it does. Each goroutine keeps a worker for a share of
// every hogSlice, all of it at full magnitude; a ramp grows the share, so
// the workers the hog takes (n times the share, on average) grow smoothly,
// as a neighbour's load does, rather than a whole worker at a time.
type hogEffect struct {
	w *workers
	n int
	// hold is how long each goroutine keeps a worker per hogSlice, in
	// nanoseconds; the goroutines read it anew every slice.
	hold atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup
}

// newHog starts a hog of n goroutines at level (0..1) of its magnitude;
// the level is set before they start, so a step fault acts from the first
// slice.
func (w *workers) newHog(n int, level float64) *hogEffect {
	e := &hogEffect{w: w, n: n, done: make(chan struct{})}
	e.set(level)
	for range n {
		e.wg.Go(e.hog)
	}
	return e
}

func (e *hogEffect) set(level float64) { e.hold.Store(int64(level * float64(hogSlice))) }

// magnitude is the workers the hog keeps on average (if it gets them).
func (e *hogEffect) magnitude() float64 {
	return float64(e.n) * float64(e.hold.Load()) / float64(hogSlice)
}

func (e *hogEffect) stop() { close(e.done); e.wg.Wait() }

// hog is one hog goroutine: each hogSlice it keeps a worker for hold, then
// rests for the remainder without one.
func (e *hogEffect) hog() {
	rest := time.NewTimer(0)
	defer rest.Stop()
	for {
		select {
		case <-rest.C:
		case <-e.done:
			return
		}
		hold := time.Duration(e.hold.Load())
		if hold <= 0 {
			rest.Reset(hogSlice)
			continue
		}
		select {
		case e.w.sem <- struct{}{}:
		case <-e.done:
			return
		}
		for start := time.Now(); time.Since(start) < hold; {
			spin(hogSpin)
			rest.Reset(hogRest)
			<-rest.C
		}
		<-e.w.sem
		// At full magnitude the remainder is zero: the goroutine queues
		// for a worker again at once.
		rest.Reset(hogSlice - hold)
	}
}

// lockCycle is the period of a lock-contention fault.
const lockCycle = 20 * time.Millisecond

// lockEffect is a goroutine that holds the service's mutex for a fraction
// of every lockCycle, up to full; a ramp grows the fraction held.
type lockEffect struct {
	w    *workers
	full float64
	// hold is how long the lock is held each cycle, in nanoseconds; the
	// holder reads it anew every cycle.
	hold atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup
}

// newLockHolder starts the lock holder at level (0..1) of fraction, set
// before it starts.
func (w *workers) newLockHolder(fraction, level float64) *lockEffect {
	e := &lockEffect{w: w, full: fraction, done: make(chan struct{})}
	e.set(level)
	e.wg.Go(e.holder)
	return e
}

func (e *lockEffect) set(level float64) {
	e.hold.Store(int64(level * e.full * float64(lockCycle)))
}

func (e *lockEffect) magnitude() float64 { return float64(e.hold.Load()) / float64(lockCycle) }

func (e *lockEffect) stop() { close(e.done); e.wg.Wait() }

// holder holds the lock for hold of every lockCycle until stop.
func (e *lockEffect) holder() {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-e.done:
			return
		}
		hold := time.Duration(e.hold.Load())
		if hold <= 0 {
			t.Reset(lockCycle)
			continue
		}
		e.w.mu.Lock()
		t.Reset(hold)
		select {
		case <-t.C:
		case <-e.done:
			e.w.mu.Unlock()
			return
		}
		e.w.mu.Unlock()
		t.Reset(lockCycle - hold)
	}
}

// delayEffect adds up to full to every request's work; a ramp grows the
// delay, as a slow dependency gets slower.
type delayEffect struct {
	w    *workers
	full time.Duration
	// cur is what this fault adds to w.delay now, in nanoseconds.
	cur atomic.Int64
}

func (w *workers) newDelay(full time.Duration) *delayEffect {
	return &delayEffect{w: w, full: full}
}

func (e *delayEffect) set(level float64) {
	d := int64(level * float64(e.full))
	// Other delay faults on the service add to w.delay too: move it by
	// this fault's change only.
	e.w.delay.Add(d - e.cur.Swap(d))
}

func (e *delayEffect) magnitude() float64 {
	return float64(e.cur.Load()) / float64(time.Millisecond)
}

func (e *delayEffect) stop() { e.set(0) }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
