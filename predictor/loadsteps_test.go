package predictor

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadSteps(t *testing.T) {
	s := int64(time.Second)
	burst := func(factor string) map[string]string {
		return map[string]string{"pattern": "burst", "rate": "100", "period": "10s", "burst_length": "2s", "burst_factor": factor}
	}
	tests := []struct {
		name    string
		params  map[string]string
		want    []int64
		wantErr string
	}{
		{"burst up", burst("1.5"), []int64{0, 10 * s, 20 * s, 30 * s}, ""},
		{"burst down: the load steps up as it ends", burst("0.5"), []int64{2 * s, 12 * s, 22 * s, 32 * s}, ""},
		{"burst of factor 1", burst("1"), nil, ""},
		{"steps up only", map[string]string{"pattern": "step", "rate": "100", "step0": "5s=200", "step1": "10s=150", "step2": "20s=300", "step3": "40s=900"}, []int64{5 * s, 20 * s}, ""},
		{"constant", map[string]string{"pattern": "constant", "rate": "100"}, nil, ""},
		{"diurnal", map[string]string{"pattern": "diurnal", "rate": "100", "period": "60s", "amplitude": "0.3"}, nil, ""},
		{"no params (a replay)", nil, nil, ""},
		{"bad period", map[string]string{"pattern": "burst", "period": "often", "burst_length": "2s", "burst_factor": "2"}, nil, "period"},
		{"zero period", map[string]string{"pattern": "burst", "period": "0s", "burst_length": "2s", "burst_factor": "2"}, nil, "period"},
		{"bad factor", map[string]string{"pattern": "burst", "period": "10s", "burst_length": "2s", "burst_factor": "x"}, nil, "burst_factor"},
		{"bad step", map[string]string{"pattern": "step", "rate": "100", "step0": "5s-200"}, nil, "step0"},
		{"step before the start", map[string]string{"pattern": "step", "rate": "100", "step0": "-5s=200"}, nil, "step0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadSteps(tt.params, 35*s)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestByOnset: an episode whose onset comes less than MinLead after the
// load stepped up is counted under after_load_step, the others under
// other_onsets; the whole counts both.
func TestByOnset(t *testing.T) {
	tr := synthTrace(80, []string{"a", "b", "c"}, "c", [][2]int{{30, 35}, {45, 50}, {65, 70}})
	// Onsets at 3.0, 4.5 and 6.5 s; MinLead one tick (100 ms).
	tr.LoadStepsNs = []int64{29 * tick, 43 * tick, 65 * tick}
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
	// The step at 2.9 s is MinLead before the first onset: after a step.
	// The one at 4.3 s is two ticks before the second: seen in time. The
	// one at 6.5 s is at the third's onset: not before it.
	if after.Violations != 1 || after.Anticipated != 1 || other.Violations != 2 || other.Anticipated != 1 || other.Recall != 0.5 {
		t.Fatalf("after_load_step %+v, other_onsets %+v", after, other)
	}
}

// FuzzLoadSteps: any params give steps in [0, duration), in order, or an
// error; never a panic or an unbounded list.
func FuzzLoadSteps(f *testing.F) {
	f.Add("burst", "10s", "2s", "1.5", "100", "5s=200", int64(35e9))
	f.Add("burst", "1ns", "1ns", "2", "100", "", int64(3600e9))
	f.Add("step", "", "", "", "100", "5s=200", int64(35e9))
	f.Add("step", "", "", "", "x", "=", int64(1))
	f.Add("step", "", "", "", "100", "-5s=200", int64(35e9))
	f.Fuzz(func(t *testing.T, pattern, period, length, factor, rate, step0 string, dur int64) {
		p := map[string]string{"pattern": pattern, "period": period, "burst_length": length, "burst_factor": factor, "rate": rate, "step0": step0}
		steps, err := loadSteps(p, dur)
		if err != nil {
			return
		}
		if len(steps) > maxLoadSteps+1 {
			t.Fatalf("%d steps", len(steps))
		}
		for i, s := range steps {
			if s < 0 || s >= dur || (i > 0 && s < steps[i-1]) {
				t.Fatalf("steps %v for duration %d", steps, dur)
			}
		}
	})
}
