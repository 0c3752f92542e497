package socialnetwork

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// ErrNoFault is returned by Injector.Remove for an unknown fault id.
var ErrNoFault = errors.New("no such fault")

// maxFaultHistory bounds the ended faults an Injector remembers.
const maxFaultHistory = 256

// rampTick is how often a ramping fault's magnitude is raised: the QoS
// monitor's evaluation period, fine enough that the ramp is smooth at the
// resolution anything watches it.
const rampTick = 100 * time.Millisecond

// Injector injects faults into the services of an App and keeps the ground
// truth: every fault's kind, service, start and end.
type Injector struct {
	app     *App
	metrics *Metrics
	log     *slog.Logger
	// now is the clock of fault starts, ends and ramps; tests replace it
	// to drive a ramp without waiting for it.
	now func() time.Time

	mu     sync.Mutex
	nextID int
	faults []*faultState // in injection order
	done   chan struct{}
	closed bool
	wg     sync.WaitGroup
}

type faultState struct {
	f      Fault
	effect effect
	remove chan struct{}
	ended  chan struct{} // closed once the effect has stopped
	once   sync.Once
}

// NewInjector returns an Injector of app's services that reports to m (may
// be nil) and logs to log (nil: slog.Default()).
func NewInjector(app *App, m *Metrics, log *slog.Logger) *Injector {
	if log == nil {
		log = slog.Default()
	}
	return &Injector{app: app, metrics: m, log: log, now: time.Now, done: make(chan struct{})}
}

func (in *Injector) workers(service string) (int, bool) {
	s := in.app.services[service]
	if s == nil {
		return 0, false
	}
	return s.w.cfg.Workers, true
}

// Inject validates spec and starts the fault; source says who asked
// ("admin", "scheduler").
func (in *Injector) Inject(spec FaultSpec, source string) (Fault, error) {
	if err := spec.validate(in.workers); err != nil {
		return Fault{}, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return Fault{}, errors.New("fault: injector is closed")
	}
	w := in.app.services[spec.Service].w
	level := rampLevel(0, time.Duration(spec.Ramp)) // 1 for a step, 0 for a ramp
	var e effect
	switch spec.Kind {
	case FaultCPUHog:
		e = w.newHog(int(spec.Magnitude), level)
	case FaultDelay:
		e = w.newDelay(time.Duration(spec.Magnitude * float64(time.Millisecond)))
		e.set(level)
	case FaultLockContention:
		e = w.newLockHolder(spec.Magnitude, level)
	}
	in.nextID++
	now := in.now()
	fs := &faultState{
		f: Fault{ID: fmt.Sprintf("f%d", in.nextID), FaultSpec: spec, Source: source,
			Start: now, End: now.Add(time.Duration(spec.Duration)), Active: true},
		effect: e,
		remove: make(chan struct{}),
		ended:  make(chan struct{}),
	}
	in.faults = append(in.faults, fs)
	in.trim()
	if in.metrics != nil {
		in.metrics.faultActive.WithLabelValues(spec.Kind, spec.Service).Inc()
		in.metrics.faultsInjected.WithLabelValues(spec.Kind, spec.Service).Inc()
	}
	in.log.Info("fault injected", "id", fs.f.ID, "kind", spec.Kind, "service", spec.Service,
		"duration", time.Duration(spec.Duration), "ramp", time.Duration(spec.Ramp), "magnitude", spec.Magnitude, "source", source)
	in.wg.Go(func() { in.expire(fs) })
	return fs.f, nil
}

// expire ramps fs's effect up to its full magnitude, then ends it when its
// duration is over, it is removed, or the Injector closes.
func (in *Injector) expire(fs *faultState) {
	t := time.NewTimer(time.Duration(fs.f.Duration))
	defer t.Stop()
	var ramp <-chan time.Time // nil once at full magnitude
	if fs.f.Ramp > 0 {
		tick := time.NewTicker(rampTick)
		defer tick.Stop()
		ramp = tick.C
	}
wait:
	for {
		select {
		case <-ramp:
			level := rampLevel(in.now().Sub(fs.f.Start), time.Duration(fs.f.Ramp))
			fs.effect.set(level)
			if level == 1 {
				ramp = nil
			}
		case <-t.C:
			break wait
		case <-fs.remove:
			break wait
		case <-in.done:
			break wait
		}
	}
	fs.effect.stop()
	in.mu.Lock()
	if now := in.now(); now.Before(fs.f.End) {
		fs.f.End = now
	}
	fs.f.Active = false
	f := fs.f
	in.mu.Unlock()
	close(fs.ended)
	if in.metrics != nil {
		in.metrics.faultActive.WithLabelValues(f.Kind, f.Service).Dec()
	}
	in.log.Info("fault ended", "id", f.ID, "kind", f.Kind, "service", f.Service,
		"start", f.Start.UTC().Format(time.RFC3339Nano), "end", f.End.UTC().Format(time.RFC3339Nano))
}

// trim forgets the oldest ended faults past maxFaultHistory.
func (in *Injector) trim() {
	for len(in.faults) > maxFaultHistory {
		i := 0
		for i < len(in.faults) && in.faults[i].f.Active {
			i++
		}
		if i == len(in.faults) {
			return
		}
		in.faults = append(in.faults[:i], in.faults[i+1:]...)
	}
}

// Remove ends the fault with the given id now, waits until its effect has
// stopped and returns it. Removing an ended fault is not an error.
func (in *Injector) Remove(id string) (Fault, error) {
	in.mu.Lock()
	var fs *faultState
	for _, s := range in.faults {
		if s.f.ID == id {
			fs = s
		}
	}
	in.mu.Unlock()
	if fs == nil {
		return Fault{}, fmt.Errorf("fault %q: %w", id, ErrNoFault)
	}
	fs.once.Do(func() { close(fs.remove) })
	<-fs.ended
	in.mu.Lock()
	defer in.mu.Unlock()
	return fs.f, nil
}

// Faults returns the active faults and the most recent ended ones, in
// injection order.
func (in *Injector) Faults() []Fault {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]Fault, len(in.faults))
	for i, s := range in.faults {
		out[i] = s.f
	}
	return out
}

// Close ends every fault and waits until their effects have stopped.
func (in *Injector) Close() {
	in.mu.Lock()
	if !in.closed {
		in.closed = true
		close(in.done)
	}
	in.mu.Unlock()
	in.wg.Wait()
}
