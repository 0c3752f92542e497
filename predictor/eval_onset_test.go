package predictor

import (
	"testing"
	"time"

	"github.com/seer-qos/seer/sim"
)

// TestByOnset: an episode whose onset comes less than MinLead after the
// load stepped up is counted under after_load_step, the others under
// other_onsets; the whole counts both. Steps and bursts alike.
func TestByOnset(t *testing.T) {
	const d = time.Duration(tick)
	for name, load := range map[string]sim.Load{
		// The step at 2.9 s is MinLead before the first onset (3.0 s):
		// after a step. The one at 4.3 s is two ticks before the second
		// (4.5 s): seen in time. The one at 6.5 s is at the third's onset.
		"steps": {Rate: 100, Pattern: sim.PatternStep, Steps: []sim.Step{{At: 29 * d, Rate: 200}, {At: 43 * d, Rate: 300}, {At: 65 * d, Rate: 400}}},
		// Bursts down, the rate back up at 0.9, 2.9, 4.9 and 6.9 s.
		"bursts": {Rate: 100, Pattern: sim.PatternBurst, Period: 20 * d, BurstLength: 9 * d, BurstFactor: 0.5},
	} {
		t.Run(name, func(t *testing.T) {
			tr := synthTrace(80, []string{"a", "b", "c"}, "c", [][2]int{{30, 35}, {45, 50}, {65, 70}})
			tr.load = &load
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
