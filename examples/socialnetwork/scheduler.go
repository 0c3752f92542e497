package socialnetwork

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// SchedulerConfig configures the fault Scheduler.
type SchedulerConfig struct {
	// Every is the time between two fault starts; 0 disables the
	// scheduler.
	Every time.Duration
	// First is when the first fault starts. Default Every/2.
	First time.Duration
	// Duration is how long each fault acts. Default 30s (and at most
	// Every).
	Duration time.Duration
	// Ramp is how long each fault takes to grow to its full magnitude
	// (FaultSpec.Ramp), at most Duration. Default 0: a step.
	Ramp time.Duration
	// Services are the culprits, in turn; default DefaultFaultServices.
	Services []string
	// Kinds are the fault kinds, in turn; default FaultKinds.
	Kinds []string
	// Magnitudes by kind; default DefaultFaultMagnitudes. A kind missing
	// from the map takes the kind's own default (FaultSpec.Magnitude).
	Magnitudes map[string]float64
}

// DefaultFaultMagnitudes are the scheduler's default magnitudes, stronger
// than the kinds' own defaults so that each fault shows as violations:
// 20ms of delay, the lock held 90% of the time, and as many hog goroutines
// as the service has workers.
var DefaultFaultMagnitudes = map[string]float64{FaultDelay: 20, FaultLockContention: 0.9}

// DefaultFaultServices are the services the scheduler faults by default:
// services on the read paths (90% of the load), from the middle of the
// graph down to the cache and storage tiers.
var DefaultFaultServices = []string{PostStorage, HomeTimelineRD, UserTimeline, PostStorageMC, HomeTimeline, PostStorageDB, UserTimelineRD}

// Scheduler injects a fault every few minutes, rotating through services
// and kinds: the i-th fault is Kinds[i%len(Kinds)] on
// Services[i%len(Services)], so with coprime lengths every pair comes up.
type Scheduler struct {
	cfg SchedulerConfig
	in  *Injector
	log *slog.Logger
}

// NewScheduler checks cfg and returns a Scheduler injecting through in.
func NewScheduler(cfg SchedulerConfig, in *Injector, log *slog.Logger) (*Scheduler, error) {
	if cfg.Every < 0 || cfg.First < 0 || cfg.Duration < 0 || cfg.Ramp < 0 {
		return nil, fmt.Errorf("fault schedule: negative interval (every %v, first %v, duration %v, ramp %v)", cfg.Every, cfg.First, cfg.Duration, cfg.Ramp)
	}
	if cfg.First == 0 {
		cfg.First = cfg.Every / 2
	}
	if cfg.Duration == 0 {
		cfg.Duration = 30 * time.Second
	}
	if cfg.Every > 0 {
		cfg.Duration = min(cfg.Duration, cfg.Every)
	}
	if len(cfg.Services) == 0 {
		cfg.Services = DefaultFaultServices
	}
	if len(cfg.Kinds) == 0 {
		cfg.Kinds = FaultKinds
	}
	if cfg.Magnitudes == nil {
		cfg.Magnitudes = DefaultFaultMagnitudes
	}
	for i := range cfg.Services {
		for _, k := range cfg.Kinds {
			if _, err := cfg.spec(i, k).check(in); err != nil {
				return nil, fmt.Errorf("fault schedule: %w", err)
			}
		}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Scheduler{cfg: cfg, in: in, log: log}, nil
}

func (c SchedulerConfig) spec(service int, kind string) FaultSpec {
	return FaultSpec{Kind: kind, Service: c.Services[service], Duration: Duration(c.Duration), Ramp: Duration(c.Ramp), Magnitude: c.Magnitudes[kind]}
}

func (s FaultSpec) check(in *Injector) (FaultSpec, error) {
	err := s.validate(in.workers)
	return s, err
}

// Next returns the i-th fault of the schedule.
func (s *Scheduler) Next(i int) FaultSpec {
	return s.cfg.spec(i%len(s.cfg.Services), s.cfg.Kinds[i%len(s.cfg.Kinds)])
}

// Run injects the schedule's faults until ctx ends (at once if Every is 0).
func (s *Scheduler) Run(ctx context.Context) {
	if s.cfg.Every <= 0 {
		return
	}
	s.log.Info("fault schedule", "every", s.cfg.Every, "first", s.cfg.First, "duration", s.cfg.Duration, "ramp", s.cfg.Ramp,
		"services", s.cfg.Services, "kinds", s.cfg.Kinds)
	t := time.NewTimer(s.cfg.First)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(s.cfg.Every)
		if _, err := s.in.Inject(s.Next(i), "scheduler"); err != nil {
			s.log.Error("scheduled fault not injected", "error", err)
		}
	}
}
