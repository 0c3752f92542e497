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

// Hog timing: a hog goroutine keeps a worker for hogSlice before queueing
// for it again, and while it keeps it, spins for hogSpin out of every
// hogSpin+hogRest. A hog that spun flat out would starve the whole process
// on a small machine (and Go's network poller with it), slowing every
// service alike; the demo's point is a culprit, so the hog burns a tenth of
// a core per goroutine and does its harm by taking the service's workers.
const (
	hogSlice = 20 * time.Millisecond
	hogSpin  = 100 * time.Microsecond
	hogRest  = 900 * time.Microsecond
)

// startHog starts n goroutines that queue for the service's workers like
// requests do and burn CPU on them, hogSlice at a time, until stop is
// called: the hog takes this service's workers as a co-located job takes a
// service's cores, and burns real CPU while it does.
func (w *workers) startHog(n int) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			rest := time.NewTimer(0)
			defer rest.Stop()
			<-rest.C
			for {
				select {
				case w.sem <- struct{}{}:
				case <-done:
					return
				}
				for start := time.Now(); time.Since(start) < hogSlice; {
					spin(hogSpin)
					rest.Reset(hogRest)
					<-rest.C
				}
				<-w.sem
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	return func() { close(done); wg.Wait() }
}

// lockCycle is the period of a lock-contention fault.
const lockCycle = 20 * time.Millisecond

// startLockHolder starts a goroutine that holds the service's mutex for
// fraction of every lockCycle until stop is called.
func (w *workers) startLockHolder(fraction float64) (stop func()) {
	hold := time.Duration(fraction * float64(lockCycle))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			<-t.C
			w.mu.Lock()
			t.Reset(hold)
			select {
			case <-t.C:
			case <-done:
				w.mu.Unlock()
				return
			}
			w.mu.Unlock()
			t.Reset(lockCycle - hold)
			select {
			case <-done:
				return
			default:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// addDelay adds d to every request's work until stop is called.
func (w *workers) addDelay(d time.Duration) (stop func()) {
	w.delay.Add(int64(d))
	var once sync.Once
	return func() { once.Do(func() { w.delay.Add(-int64(d)) }) }
}

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
