package predictor

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseLoadSteps(t *testing.T) {
	s := int64(time.Second)
	burst := func(length, factor string) map[string]string {
		return map[string]string{"pattern": "burst", "rate": "100", "period": "10s", "burst_length": length, "burst_factor": factor}
	}
	tests := []struct {
		name    string
		params  map[string]string
		want    loadSteps
		wantErr string
	}{
		{"burst up", burst("2s", "1.5"), loadSteps{period: 10 * s}, ""},
		{"burst down: the load steps up as it ends", burst("2s", "0.5"), loadSteps{period: 10 * s, phase: 2 * s}, ""},
		{"burst of factor 1", burst("2s", "1"), loadSteps{}, ""},
		{"burst as long as its period", burst("10s", "2"), loadSteps{}, ""},
		{"steps up only", map[string]string{"pattern": "step", "rate": "100", "step0": "5s=200", "step1": "10s=150", "step2": "20s=300", "step3": "40s=900"}, loadSteps{at: []int64{5 * s, 20 * s}}, ""},
		{"the last step at a time sets the rate", map[string]string{"pattern": "step", "rate": "100", "step0": "5s=200", "step1": "5s=50", "step2": "8s=60"}, loadSteps{at: []int64{8 * s}}, ""},
		{"constant", map[string]string{"pattern": "constant", "rate": "100"}, loadSteps{}, ""},
		{"diurnal", map[string]string{"pattern": "diurnal", "rate": "100", "period": "60s", "amplitude": "0.3"}, loadSteps{}, ""},
		{"no params (a replay)", nil, loadSteps{}, ""},
		{"bad period", map[string]string{"pattern": "burst", "period": "often", "burst_length": "2s", "burst_factor": "2"}, loadSteps{}, "period"},
		{"zero period", map[string]string{"pattern": "burst", "period": "0s", "burst_length": "2s", "burst_factor": "2"}, loadSteps{}, "period"},
		{"bad factor", map[string]string{"pattern": "burst", "period": "10s", "burst_length": "2s", "burst_factor": "x"}, loadSteps{}, "burst_factor"},
		{"bad step", map[string]string{"pattern": "step", "rate": "100", "step0": "5s-200"}, loadSteps{}, "step0"},
		{"step before the start", map[string]string{"pattern": "step", "rate": "100", "step0": "-5s=200"}, loadSteps{}, "step0"},
		{"steps out of order", map[string]string{"pattern": "step", "rate": "100", "step0": "5s=200", "step1": "2s=300"}, loadSteps{}, "step1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLoadSteps(tt.params, 35*s)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got.at, tt.want.at) || got.period != tt.want.period || got.phase != tt.want.phase {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestLoadStepsWithin(t *testing.T) {
	s := int64(time.Second)
	bursts := loadSteps{period: 10 * s, phase: 2 * s} // 2, 12, 22 s ...
	huge := loadSteps{period: math.MaxInt64 / 2, phase: s}
	tests := []struct {
		name   string
		l      loadSteps
		lo, hi int64
		want   bool
	}{
		{"before the first", bursts, 0, 2 * s, false},
		{"the first", bursts, 0, 2*s + 1, true},
		{"a later one at lo", bursts, 12 * s, 12*s + 1, true},
		{"just before a later one", bursts, 12*s + 1, 22 * s, false},
		{"a later one before hi", bursts, 12*s + 1, 22*s + 1, true},
		{"a listed step", loadSteps{at: []int64{5 * s}}, 4 * s, 6 * s, true},
		{"no listed step inside", loadSteps{at: []int64{5 * s}}, 5*s + 1, 6 * s, false},
		{"none", loadSteps{}, 0, math.MaxInt64, false},
		{"a period near the largest offset", huge, 2 * s, math.MaxInt64, true},
		{"up to the second step of a huge period", huge, 2 * s, s + math.MaxInt64/2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.within(tt.lo, tt.hi); got != tt.want {
				t.Fatalf("within(%d, %d) = %v, want %v", tt.lo, tt.hi, got, tt.want)
			}
		})
	}
}

// TestByOnset: an episode whose onset comes less than MinLead after the
// load stepped up is counted under after_load_step, the others under
// other_onsets; the whole counts both. Listed steps and bursts alike.
func TestByOnset(t *testing.T) {
	for name, steps := range map[string]loadSteps{
		// The step at 2.9 s is MinLead before the first onset (3.0 s):
		// after a step. The one at 4.3 s is two ticks before the second
		// (4.5 s): seen in time. The one at 6.5 s is at the third's onset.
		"listed": {at: []int64{29 * tick, 43 * tick, 65 * tick}},
		// Bursts at 0.9, 2.9, 4.9 and 6.9 s.
		"bursts": {period: 20 * tick, phase: 9 * tick},
	} {
		t.Run(name, func(t *testing.T) {
			tr := synthTrace(80, []string{"a", "b", "c"}, "c", [][2]int{{30, 35}, {45, 50}, {65, 70}})
			tr.loadSteps = steps
			cfg := EvalConfig{HorizonNs: 5 * tick, MinLeadNs: tick, FirstTick: 5}
			d := &Detection{Alarm: make([]bool, tr.Ticks), Score: make([][]float32, tr.Ticks)}
			for tk := range tr.Ticks {
				d.Score[tk] = []float32{0.1, 0.2, 0.9}
			}
			d.Alarm[27], d.Alarm[62] = true, true // anticipates the first and the third
			m := &Metrics{}
			m.score(tr, d, cfg)
			m.finish()
			after, other := m.ByOnset[OnsetAfterLoadStep], m.ByOnset[OnsetOther]
			if m.Violations != 3 || after == nil || other == nil {
				t.Fatalf("violations %d, by onset %v", m.Violations, m.ByOnset)
			}
			if after.Violations != 1 || after.Anticipated != 1 || other.Violations != 2 || other.Anticipated != 1 || other.Recall != 0.5 {
				t.Fatalf("after_load_step %+v, other_onsets %+v", after, other)
			}
		})
	}
}

// FuzzLoadSteps: any params parse or give an error, never a panic; within
// agrees with walking the bursts one by one.
func FuzzLoadSteps(f *testing.F) {
	f.Add("burst", "10s", "2s", "1.5", "100", "5s=200", int64(35e9), int64(11e9), int64(13e9))
	f.Add("burst", "1ns", "1ns", "2", "100", "", int64(3600e9), int64(5), int64(6))
	f.Add("burst", "2562047h", "1h", "0.5", "100", "", int64(math.MaxInt64), int64(7200e9), int64(math.MaxInt64))
	f.Add("step", "", "", "", "100", "5s=200", int64(35e9), int64(4e9), int64(6e9))
	f.Add("step", "", "", "", "x", "=", int64(1), int64(0), int64(1))
	f.Add("step", "", "", "", "100", "-5s=200", int64(35e9), int64(0), int64(1))
	f.Fuzz(func(t *testing.T, pattern, period, length, factor, rate, step0 string, dur, lo, hi int64) {
		p := map[string]string{"pattern": pattern, "period": period, "burst_length": length, "burst_factor": factor, "rate": rate, "step0": step0}
		l, err := parseLoadSteps(p, dur)
		if err != nil || lo < 0 || hi <= lo || l.period == 0 || (hi-l.phase)/l.period > 1e5 {
			return
		}
		want := false
		for s := l.phase; s < hi; s += l.period {
			if s >= lo {
				want = true
				break
			}
			if s > math.MaxInt64-l.period {
				break
			}
		}
		if got := l.within(lo, hi); got != want {
			t.Fatalf("%+v within(%d, %d) = %v, walking the bursts %v", l, lo, hi, got, want)
		}
	})
}
