package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/sim/topology"
)

// DefaultStart is the event time at which a run starts unless told
// otherwise: 2026-01-01T00:00:00Z.
const DefaultStart = int64(1767225600) * int64(time.Second)

// Config is one simulation run.
type Config struct {
	Topology *topology.Topology
	// Seed is the master seed.
	Seed uint64
	// Start is the event time of the run's start (Unix ns); 0 means
	// DefaultStart.
	Start int64
	// Duration is the simulated time.
	Duration time.Duration
	// Tick is the series period (default 100ms).
	Tick time.Duration
	// QoSWindow is the sliding window of the p99 check (default 1s).
	QoSWindow time.Duration
	// QoSMinRequests, when positive, is the fewest requests a p99 is taken
	// over: a request type whose last QoSWindow holds fewer has its window
	// reach further back, a tick at a time, until it holds at least that
	// many, up to QoSMaxWindowFactor times QoSWindow. At 0 (the default)
	// the window is QoSWindow alone, and the p99 of a type of 150 requests
	// a second is its second-slowest request.
	QoSMinRequests int
	// Load is the offered load.
	Load Load
	// Faults are injected; their StartNs is an offset from Start. IDs are
	// assigned ("f1", ...) where empty. Results carry absolute times.
	Faults []dataset.Fault
	// Attribution is how violations are put down to faults:
	// AttributionButFor (the default) or AttributionWindow (the default,
	// and the only choice, with a Controller: see attributeButFor).
	Attribution string
	// Actions are scheduled cluster-manager actions.
	Actions []Action
	// Controller, if set, sees every tick and may act.
	Controller Controller
	// OnTick, if set, gets every tick's samples (one per live instance, in
	// instance creation order). The slice is reused after the call.
	OnTick func(startNs int64, samples []series.Sample) error
	// OnQoS, if set, gets every request type's sliding-window latency at
	// the end of every tick.
	OnQoS func(dataset.QoSPoint) error
	// Spans, if set, gets every span (SERVER and CLIENT).
	Spans SpanSink
	// MaxDepth bounds call nesting (cycles); deeper calls fail (default 64).
	MaxDepth int
	// Context, if set, stops the run (with its error) when done; checked at
	// every tick.
	Context context.Context

	// surgeBound raises the thinning bound of the arrivals to that of
	// surges this large: the but-for reruns keep the bound (hence every
	// arrival draw) of the run they test.
	surgeBound float64
}

// Action is a scheduled cluster-manager action.
type Action struct {
	// Kind is dataset.ActionScaleOut or dataset.ActionRemoveContention.
	Kind string
	// At is the offset from the run's start.
	At time.Duration
	// Service is the target; Instance narrows remove_contention.
	Service  string
	Instance string
	// Count is the instances to add (scale_out).
	Count int
	// Delay overrides the service's start-up delay (scale_out); negative
	// means the service's.
	Delay time.Duration
}

func (c *Config) withDefaults() Config {
	x := *c
	if x.Start == 0 {
		x.Start = DefaultStart
	}
	if x.Tick == 0 {
		x.Tick = 100 * time.Millisecond
	}
	if x.QoSWindow == 0 {
		x.QoSWindow = time.Second
	}
	if x.MaxDepth == 0 {
		x.MaxDepth = 64
	}
	if x.Load.Pattern == "" {
		x.Load.Pattern = PatternConstant
	}
	if x.Attribution == "" {
		x.Attribution = AttributionButFor
		if x.Controller != nil {
			x.Attribution = AttributionWindow
		}
	}
	x.Faults = append([]dataset.Fault(nil), c.Faults...)
	for i := range x.Faults {
		if x.Faults[i].ID == "" {
			x.Faults[i].ID = fmt.Sprintf("f%d", i+1)
		}
	}
	return x
}

// Validate checks the run as Run would: with the defaults applied (tick,
// QoS window, fault IDs, ...).
func (c *Config) Validate() error {
	x := c.withDefaults()
	return x.validate()
}

// validate checks a config with the defaults applied.
func (c *Config) validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Topology == nil {
		return errors.New("no topology")
	}
	if c.Duration <= 0 {
		add("duration must be positive")
	}
	if c.QoSMinRequests < 0 {
		add("qos min requests must not be negative")
	}
	if c.Tick <= 0 || c.QoSWindow < c.Tick {
		add("tick must be positive and qos window at least one tick")
	}
	if err := c.Load.validate(); err != nil {
		add("load: %v", err)
	}
	switch {
	case c.Attribution != AttributionButFor && c.Attribution != AttributionWindow:
		add("attribution must be %s or %s, got %q", AttributionButFor, AttributionWindow, c.Attribution)
	case c.Attribution == AttributionButFor && c.Controller != nil:
		add("attribution %s needs runs without a controller (it reruns the scenario without each fault)", AttributionButFor)
	}
	ids := map[string]bool{}
	for _, f := range c.Faults {
		if ids[f.ID] {
			add("fault id %q repeated", f.ID)
		}
		ids[f.ID] = true
		if err := validateFault(c.Topology, &f); err != nil {
			add("fault %s: %v", f.ID, err)
		}
	}
	for i, a := range c.Actions {
		switch a.Kind {
		case dataset.ActionScaleOut:
			if a.Count < 1 {
				add("action %d: scale_out needs a positive count", i)
			}
		case dataset.ActionRemoveContention:
		default:
			add("action %d: unknown kind %q", i, a.Kind)
		}
		if c.Topology.Service(a.Service) == nil {
			add("action %d: unknown service %q", i, a.Service)
		}
		if a.At < 0 {
			add("action %d: negative time", i)
		}
	}
	return errors.Join(errs...)
}

func validateFault(t *topology.Topology, f *dataset.Fault) error {
	known := false
	for _, k := range dataset.FaultKinds {
		known = known || k == f.Kind
	}
	if f.Kind == dataset.FaultCodeError {
		return fmt.Errorf("kind %q is not simulated (replayed datasets only)", f.Kind)
	}
	if !known {
		return fmt.Errorf("unknown kind %q (kinds: %v)", f.Kind, dataset.FaultKinds)
	}
	if f.Kind != dataset.FaultLoadSurge || f.Service != "" {
		s := t.Service(f.Service)
		if s == nil {
			return fmt.Errorf("unknown service %q", f.Service)
		}
		if f.Instance != "" {
			ok := false
			for i := 0; i < s.Instances; i++ {
				ok = ok || instanceName(s.Name, i) == f.Instance
			}
			if !ok {
				return fmt.Errorf("unknown instance %q of %s", f.Instance, f.Service)
			}
		}
	}
	if f.RampNs < 0 || f.DurationNs < 0 || math.IsNaN(f.Magnitude) || f.Magnitude < 0 {
		return errors.New("ramp, duration and magnitude must not be negative")
	}
	switch f.Kind {
	case dataset.FaultNetworkLoss, dataset.FaultBlocking, dataset.FaultCacheFailure:
		if f.Magnitude > 1 {
			return fmt.Errorf("%s magnitude is a fraction in [0,1], got %v", f.Kind, f.Magnitude)
		}
	}
	return nil
}

func instanceName(service string, i int) string { return fmt.Sprintf("%s-%d", service, i) }
