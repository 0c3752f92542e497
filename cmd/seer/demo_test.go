package main

import (
	"testing"
	"time"
)

func TestDemoScheduledRamp(t *testing.T) {
	for _, tt := range []struct {
		every, dur, ramp time.Duration
		explicit         bool
		want             time.Duration
	}{
		{2 * time.Minute, 30 * time.Second, 15 * time.Second, false, 15 * time.Second}, // the defaults
		{10 * time.Second, 30 * time.Second, 15 * time.Second, false, 5 * time.Second}, // --fault-every 10s
		{0, 8 * time.Second, 15 * time.Second, false, 4 * time.Second},                 // --fault-duration 8s, no schedule
		{10 * time.Second, 30 * time.Second, 12 * time.Second, true, 12 * time.Second}, // given: passed on (and refused later)
	} {
		o := demoOptions{faultEvery: tt.every, faultFor: tt.dur, faultRamp: tt.ramp}
		if got := o.scheduledRamp(tt.explicit); got != tt.want {
			t.Errorf("every %v, duration %v, ramp %v (explicit %v): %v, want %v", tt.every, tt.dur, tt.ramp, tt.explicit, got, tt.want)
		}
	}
}
