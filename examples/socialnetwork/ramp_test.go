package socialnetwork

import (
	"math"
	"sync/atomic"
	"testing"
	"time"
)

func TestRampLevel(t *testing.T) {
	tests := []struct {
		elapsed, ramp time.Duration
		want          float64
	}{
		{0, 0, 1}, // a step
		{time.Second, 0, 1},
		{-time.Second, 10 * time.Second, 0},
		{0, 10 * time.Second, 0},
		{2500 * time.Millisecond, 10 * time.Second, 0.25},
		{5 * time.Second, 10 * time.Second, 0.5},
		{10 * time.Second, 10 * time.Second, 1},
		{time.Minute, 10 * time.Second, 1},
	}
	for _, tt := range tests {
		if got := rampLevel(tt.elapsed, tt.ramp); got != tt.want {
			t.Errorf("rampLevel(%v, %v) = %v, want %v", tt.elapsed, tt.ramp, got, tt.want)
		}
	}
}

// TestFaultRamp injects each kind with a ramp on an Injector whose clock
// the test moves, and checks that the effective magnitude follows the
// ramp: nothing at the start, a quarter and half of it a quarter and half
// of the way, all of it at the end of the ramp and after; nothing once
// removed. A fault without a ramp is at full magnitude at once.
func TestFaultRamp(t *testing.T) {
	app, _ := startTestApp(t, AppConfig{})
	in := NewInjector(app, nil, quiet)
	t.Cleanup(in.Close)
	var clock atomic.Int64 // ns since t0
	t0 := time.Now()
	in.now = func() time.Time { return t0.Add(time.Duration(clock.Load())) }

	const ramp = 10 * time.Second
	tests := []struct {
		kind      string
		magnitude float64
		ramp      time.Duration
		// at are the expected magnitudes at 0, 1/4, 1/2, 1 and 2 ramps.
		at [5]float64
	}{
		{FaultDelay, 20, ramp, [5]float64{0, 5, 10, 20, 20}},                   // ms
		{FaultCPUHog, 4, ramp, [5]float64{0, 1, 2, 4, 4}},                      // workers kept on average
		{FaultLockContention, 0.8, ramp, [5]float64{0, 0.2, 0.4, 0.8, 0.8}},    // fraction held
		{FaultCPUHog, 3, ramp, [5]float64{0, 0.75, 1.5, 3, 3}},                 // a share of each goroutine's time
		{FaultDelay, 0, ramp, [5]float64{0, 2.5, 5, 10, 10}},                   // the default magnitude ramps too
		{FaultLockContention, 0.9, ramp, [5]float64{0, 0.225, 0.45, 0.9, 0.9}}, // the scheduler's default
		{FaultDelay, 20, 0, [5]float64{20, 20, 20, 20, 20}},                    // a step
		{FaultCPUHog, 4, 0, [5]float64{4, 4, 4, 4, 4}},
		{FaultLockContention, 0.8, 0, [5]float64{0.8, 0.8, 0.8, 0.8, 0.8}},
	}
	w := app.services[PostStorage].w
	for _, tt := range tests {
		r := tt.ramp
		clock.Store(0)
		f, err := in.Inject(FaultSpec{Kind: tt.kind, Service: PostStorage, Duration: Duration(time.Hour),
			Magnitude: tt.magnitude, Ramp: Duration(r)}, "test")
		if err != nil {
			t.Fatal(err)
		}
		e := faultEffect(t, in, f.ID)
		for j, frac := range []float64{0, 0.25, 0.5, 1, 2} {
			clock.Store(int64(frac * float64(ramp)))
			want := tt.at[j]
			// The injector raises the magnitude on its next ramp tick.
			deadline := time.Now().Add(waitTimeout)
			for got := e.magnitude(); math.Abs(got-want) > 1e-6*max(want, 1); got = e.magnitude() {
				if time.Now().After(deadline) {
					t.Fatalf("%s magnitude %v ramp %v at %v: effective magnitude %v, want %v",
						tt.kind, tt.magnitude, r, time.Duration(clock.Load()), got, want)
				}
				time.Sleep(time.Millisecond) // polling an observable condition
			}
			if tt.kind == FaultDelay {
				if got := time.Duration(w.delay.Load()); got != time.Duration(want*float64(time.Millisecond)) {
					t.Errorf("delay at %v: requests wait %v, want %vms", time.Duration(clock.Load()), got, want)
				}
			}
		}
		if _, err := in.Remove(f.ID); err != nil {
			t.Fatal(err)
		}
		if tt.kind == FaultDelay && w.delay.Load() != 0 {
			t.Errorf("delay of %v left after the fault was removed", time.Duration(w.delay.Load()))
		}
	}
}

// faultEffect returns the effect of the fault with the given id.
func faultEffect(t *testing.T, in *Injector, id string) effect {
	t.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, fs := range in.faults {
		if fs.f.ID == id {
			return fs.effect
		}
	}
	t.Fatalf("no fault %s", id)
	return nil
}
