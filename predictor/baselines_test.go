package predictor

import (
	"math"
	"testing"
)

// TestBaselinesCalibration checks that the queue-depth baseline's threshold
// keeps the training false-positive rate within budget and that it warns
// when the culprit's queue grows, ranking the culprit first; and that the
// failed-calls baseline (no failed call on a negative tick: zero
// thresholds) warns at the first failed call.
func TestBaselinesCalibration(t *testing.T) {
	tr := synthTrace(200, []string{"a", "b", "c"}, "b", [][2]int{{100, 110}})
	for tk := 97; tk < 100; tk++ { // calls into the culprit fail just before the onset
		tr.raw[(tk*len(tr.Services)+1)*numRaw+rawFailed] = 2
	}
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
		{"no failed call", BaselineFailed, 96, false},
		{"failed calls into the culprit", BaselineFailed, 97, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := b.detect(tt.baseline, tr)
			if d.Alarm[tt.tick] != tt.alarm {
				t.Fatalf("alarm at tick %d = %v, want %v (thresholds %v)", tt.tick, d.Alarm[tt.tick], tt.alarm, b.Thresholds[tt.baseline])
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

// TestOverZeroThreshold: a zero threshold (a quantity always 0 in
// training) must not give 0/0 = NaN, which compares false both ways and
// would rank the service first.
func TestOverZeroThreshold(t *testing.T) {
	for _, tt := range []struct{ v, th, want float32 }{
		{2, 4, 0.5},
		{0, 0, 0},
		{1, 0, float32(math.Inf(1))},
	} {
		if got := over(tt.v, tt.th); got != tt.want {
			t.Errorf("over(%v, %v) = %v, want %v", tt.v, tt.th, got, tt.want)
		}
	}
}

// TestUncalibratedBaselineLeftOut: a model trained before a baseline existed
// has no thresholds for it; reports leave it out rather than score a
// baseline that never warns.
func TestUncalibratedBaselineLeftOut(t *testing.T) {
	tr := synthTrace(100, []string{"a", "b"}, "b", [][2]int{{50, 60}})
	b := CalibrateBaselines([]*Trace{tr}, 5*tick, 5, 0.05)
	seer := []*Detection{constDetection(tr, []float32{0, 1}, []float32{0, 1}, 0, 0)}
	cfg := EvalConfig{HorizonNs: 5 * tick, MinLeadNs: tick, FirstTick: 5}
	if r := Evaluate([]*Trace{tr}, seer, b, cfg); r.Baselines[BaselineNetwork] == nil {
		t.Fatal("a calibrated network_threshold is missing from the report")
	}
	delete(b.Thresholds, BaselineNetwork)
	r := Evaluate([]*Trace{tr}, seer, b, cfg)
	if _, ok := r.Baselines[BaselineNetwork]; ok {
		t.Error("an uncalibrated network_threshold is in the report")
	}
	if r.Baselines[BaselineQueueDepth] == nil || r.Baselines[BaselineReactive] == nil {
		t.Errorf("baselines %v, want the calibrated ones and reactive", r.Baselines)
	}
	fr := RankFaults([]*Trace{tr}, seer, b, FaultRankConfig{WindowNs: 10 * tick})
	if _, ok := fr.Baselines[BaselineNetwork]; ok {
		t.Error("an uncalibrated network_threshold ranked faults")
	}
}
