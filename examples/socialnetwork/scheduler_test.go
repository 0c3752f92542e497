package socialnetwork

import (
	"context"
	"testing"
	"time"
)

func TestSchedulerRotation(t *testing.T) {
	app, _ := startTestApp(t, AppConfig{})
	in := NewInjector(app, nil, quiet)
	t.Cleanup(in.Close)
	s, err := NewScheduler(SchedulerConfig{Every: time.Minute}, in, quiet)
	if err != nil {
		t.Fatal(err)
	}
	// Seven services and three kinds: every pair within 21 faults.
	seen := map[[2]string]bool{}
	for i := range len(DefaultFaultServices) * len(FaultKinds) {
		f := s.Next(i)
		seen[[2]string{f.Kind, f.Service}] = true
		if time.Duration(f.Duration) != 30*time.Second {
			t.Errorf("fault %d lasts %v, want the default 30s", i, time.Duration(f.Duration))
		}
	}
	if want := len(DefaultFaultServices) * len(FaultKinds); len(seen) != want {
		t.Errorf("%d distinct (kind, service) pairs, want %d", len(seen), want)
	}

	bad := []SchedulerConfig{
		{Every: time.Minute, Services: []string{"mysql"}},
		{Every: time.Minute, Kinds: []string{"meltdown"}},
		{Every: -time.Minute},
		{Every: time.Minute, Magnitudes: map[string]float64{FaultLockContention: 2}},
		{Every: time.Minute, Ramp: -time.Second},
		{Every: time.Minute, Ramp: 31 * time.Second}, // past the default duration
	}
	for _, cfg := range bad {
		if _, err := NewScheduler(cfg, in, quiet); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}

	// The ramp goes into every fault.
	s, err = NewScheduler(SchedulerConfig{Every: time.Minute, Ramp: 15 * time.Second}, in, quiet)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if f := s.Next(i); time.Duration(f.Ramp) != 15*time.Second {
			t.Errorf("fault %d ramps over %v, want 15s", i, time.Duration(f.Ramp))
		}
	}
}

// TestSchedulerInjects runs a fast schedule until three faults have been
// injected and checks them against the rotation.
func TestSchedulerInjects(t *testing.T) {
	app, _ := startTestApp(t, AppConfig{})
	in := NewInjector(app, nil, quiet)
	t.Cleanup(in.Close)
	s, err := NewScheduler(SchedulerConfig{Every: 20 * time.Millisecond, First: time.Millisecond, Duration: 5 * time.Millisecond}, in, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	for len(in.Faults()) < 3 {
		if ctx.Err() != nil {
			t.Fatalf("%d faults injected", len(in.Faults()))
		}
		time.Sleep(time.Millisecond) // polling an observable condition
	}
	cancel()
	<-done
	for i, f := range in.Faults()[:3] {
		want := s.Next(i)
		if f.Kind != want.Kind || f.Service != want.Service || f.Source != "scheduler" {
			t.Errorf("fault %d: %s on %s by %s, want %s on %s by the scheduler", i, f.Kind, f.Service, f.Source, want.Kind, want.Service)
		}
	}
}
