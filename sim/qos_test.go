package sim

import (
	"testing"
	"time"

	"github.com/seer-qos/seer/dataset"
)

func TestFinishViolationsAttribution(t *testing.T) {
	const s = int64(time.Second)
	faults := []dataset.Fault{
		{ID: "before", Service: "a", StartNs: 10 * s, RampNs: s, DurationNs: 5 * s},    // acts 10-16 s
		{ID: "after", Service: "b", StartNs: 40*s + s/2, RampNs: s, DurationNs: 5 * s}, // starts inside the violation at 40 s
		{ID: "drained", Service: "c", StartNs: 50 * s, DurationNs: s},                  // ends at 51 s
	}
	sim := &Sim{cfg: Config{QoSWindow: time.Second}, viol: []dataset.Violation{
		{StartNs: 12 * s, EndNs: 13 * s}, // during "before"
		{StartNs: 40 * s, EndNs: 42 * s}, // "after" starts half a second in
		{StartNs: 56 * s, EndNs: 57 * s}, // 5 s after "drained" ended: window 1 s + drain 5 s
		{StartNs: 58 * s, EndNs: 59 * s}, // past the drain
	}}
	got := sim.finishViolations(faults)
	want := [][]string{{"before"}, {}, {"drained"}, {}}
	for i, v := range got {
		if len(v.FaultIDs) != len(want[i]) || (len(want[i]) > 0 && v.FaultIDs[0] != want[i][0]) {
			t.Errorf("violation %d at %d s: faults %v, want %v", i, v.StartNs/s, v.FaultIDs, want[i])
		}
		wantCause := "unknown"
		if len(want[i]) > 0 {
			wantCause = "fault"
		}
		if v.Cause != wantCause {
			t.Errorf("violation %d: cause %q, want %q", i, v.Cause, wantCause)
		}
	}
}

// TestQoSMinRequests checks that a window short of QoSMinRequests reaches
// back tick by tick until it holds enough requests, at most
// QoSMaxWindowFactor windows, and that the attribution looks back over the
// window the violation started with.
func TestQoSMinRequests(t *testing.T) {
	const ms = int64(time.Millisecond)
	cases := []struct {
		name      string
		min       int
		wantCount int64
		wantP99   int64
	}{
		{"window alone", 0, 10, 1 * ms},
		{"window suffices", 5, 10, 1 * ms},
		{"one slow tick more", 11, 11, 50 * ms},
		{"enough", 20, 20, 50 * ms},
		{"capped", 1000, 20, 50 * ms},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{Tick: 100 * time.Millisecond, QoSWindow: time.Second, QoSMinRequests: c.min}
			s := &Sim{cfg: cfg, now: 100 * int64(time.Second)}
			rt := &reqType{name: "r", target: 10 * ms}
			rt.window = make([][]int64, s.qosTicks()*qosWindowFactor(&s.cfg))
			n := len(rt.window)
			for i := range rt.window {
				switch {
				case i >= n-10: // the last second: fast
					rt.window[i] = []int64{1 * ms}
				case i >= n-20: // the second before: slow
					rt.window[i] = []int64{50 * ms}
				}
			}
			s.types = []*reqType{rt}
			var got dataset.QoSPoint
			s.cfg.OnQoS = func(p dataset.QoSPoint) error { got = p; return nil }
			s.checkQoS()
			if got.WindowCount != c.wantCount || got.P99Ns != c.wantP99 {
				t.Fatalf("window of %d requests, p99 %d ms; want %d, %d ms", got.WindowCount, got.P99Ns/ms, c.wantCount, c.wantP99/ms)
			}
			if wantViol := c.wantP99 > rt.target; rt.active != wantViol {
				t.Fatalf("violation open: %v, want %v", rt.active, wantViol)
			}
			if !rt.active {
				return
			}
			// The window the p99 was taken over: one request per tick up to
			// the slow second, then empty ticks up to the cap.
			wantWin := c.wantCount * 100 * ms
			if c.min > 20 {
				wantWin = int64(len(rt.window)) * 100 * ms
			}
			if rt.vWin != wantWin {
				t.Fatalf("violation window %d ms, want %d ms", rt.vWin/ms, wantWin/ms)
			}
			// A fault that ended 7 s before the start: past 1 s of window
			// and 5 s of drain, so named only when the window reached back
			// 2 s or more (not for a window of 1.1 s).
			faults := []dataset.Fault{{ID: "f", Service: "a", StartNs: s.now - 9*int64(time.Second), DurationNs: 2 * int64(time.Second)}}
			vs := s.finishViolations(faults)
			attributed := len(vs) == 1 && len(vs[0].FaultIDs) == 1
			if want := wantWin+drainNs >= 7*int64(time.Second); attributed != want {
				t.Fatalf("fault 7 s before the start attributed: %v, want %v (window %d ms)", attributed, want, wantWin/ms)
			}
		})
	}
}
