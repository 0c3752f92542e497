package predictor

import "testing"

// TestBaselinesCalibration checks that the queue-depth baseline's threshold
// keeps the training false-positive rate within budget and that it warns
// when the culprit's queue grows, ranking the culprit first.
func TestBaselinesCalibration(t *testing.T) {
	tr := synthTrace(200, []string{"a", "b", "c"}, "b", [][2]int{{100, 110}})
	b := CalibrateBaselines([]*Trace{tr}, 5*tick, 5, 0.02)
	tests := []struct {
		name     string
		baseline string
		tick     int
		alarm    bool
	}{
		{"quiet", BaselineQueueDepth, 50, false},
		{"culprit queue grows", BaselineQueueDepth, 98, true},
		{"reactive before onset", BaselineReactive, 98, false},
		{"reactive after onset", BaselineReactive, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := b.detect(tt.baseline, tr)
			if d.Alarm[tt.tick] != tt.alarm {
				t.Fatalf("alarm at tick %d = %v, want %v (thresholds %v)", tt.tick, d.Alarm[tt.tick], tt.alarm, b.Thresholds[BaselineQueueDepth])
			}
			if tt.alarm {
				if top1, _ := rankHits(tr, d.Score[tt.tick], []string{"b"}); !top1 {
					t.Fatalf("culprit not ranked first: %v", d.Score[tt.tick])
				}
			}
		})
	}
	m := &Metrics{}
	m.score(tr, b.detect(BaselineQueueDepth, tr), EvalConfig{HorizonNs: 5 * tick, MinLeadNs: tick, FirstTick: 5})
	m.finish()
	if m.FalsePositiveRate > 0.02 {
		t.Fatalf("training FPR %v above the 2%% budget", m.FalsePositiveRate)
	}
}
