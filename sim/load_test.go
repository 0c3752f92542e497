package sim

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seer-qos/seer/internal/series"
)

func TestLoadPatternsFollowTheirRate(t *testing.T) {
	tests := []struct {
		name string
		load Load
	}{
		{"constant", Load{Rate: 2000, Pattern: PatternConstant}},
		{"diurnal", Load{Rate: 2000, Pattern: PatternDiurnal, Amplitude: 0.8, Period: 40 * time.Second}},
		{"step", Load{Rate: 1000, Pattern: PatternStep, Steps: []Step{{At: 10 * time.Second, Rate: 4000}, {At: 25 * time.Second, Rate: 500}}}},
		{"burst", Load{Rate: 1000, Pattern: PatternBurst, Period: 10 * time.Second, BurstLength: 2 * time.Second, BurstFactor: 5}},
	}
	const d = 40 * time.Second
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perSec := make([]float64, int(d/time.Second))
			_, err := Run(Config{Topology: singleService(64, 64, 100*time.Microsecond), Seed: 4, Duration: d, Load: tt.load,
				OnTick: func(start int64, ss []series.Sample) error {
					perSec[(start-DefaultStart)/int64(time.Second)] += ss[0].Arrivals
					return nil
				}})
			if err != nil {
				t.Fatal(err)
			}
			// compare 2-second windows with the integral of the rate
			for s := 0; s+2 <= len(perSec); s += 2 {
				want := 0.0
				for ms := 0; ms < 2000; ms++ {
					want += tt.load.rateAt(int64(s)*int64(time.Second)+int64(ms)*int64(time.Millisecond)) / 1000
				}
				got := perSec[s] + perSec[s+1]
				// Poisson: 5 standard deviations
				if math.Abs(got-want) > 5*math.Sqrt(want)+1 {
					t.Errorf("[%ds,%ds): %v arrivals, want about %.0f", s, s+2, got, want)
				}
			}
		})
	}
}

func TestMixOverride(t *testing.T) {
	var total float64
	n := map[string]float64{}
	sink := SpanFunc(func(s *Span) error {
		if s.ParentID == 0 && s.Kind == KindServer {
			n[s.RequestType]++
			total++
		}
		return nil
	})
	_, err := Run(Config{Topology: socialNetwork(t), Seed: 2, Duration: 5 * time.Second, Spans: sink,
		Load: Load{Rate: 2000, Mix: map[string]float64{"compose-post": 1, "read-home-timeline": 1, "read-user-timeline": 0}}})
	if err != nil {
		t.Fatal(err)
	}
	if n["read-user-timeline"] != 0 || math.Abs(n["compose-post"]/total-0.5) > 0.03 {
		t.Errorf("mix %v of %v", n, total)
	}
}

// TestLoadFromParams: what Run writes into a manifest reads back as the
// same Load, and malformed params are clear errors naming the field.
func TestLoadFromParams(t *testing.T) {
	for _, l := range []Load{
		{Rate: 100, Pattern: PatternConstant},
		{Rate: 100, Pattern: PatternDiurnal, Amplitude: 0.3, Period: time.Minute},
		{Rate: 100, Pattern: PatternBurst, Period: 10 * time.Second, BurstLength: 2 * time.Second, BurstFactor: 1.5},
		{Rate: 100, Pattern: PatternStep, Steps: []Step{{5 * time.Second, 200}, {5 * time.Second, 50}, {8 * time.Second, 60}}},
	} {
		got, err := LoadFromParams(loadParams(&Config{Load: l, Duration: time.Minute}))
		if err != nil || !reflect.DeepEqual(got, l) {
			t.Errorf("%s: read back %+v, %v; want %+v", l.Pattern, got, err, l)
		}
	}
	bad := []struct {
		name    string
		params  map[string]string
		wantErr string
	}{
		{"bad period", map[string]string{"pattern": "burst", "rate": "100", "period": "often", "burst_length": "2s", "burst_factor": "2"}, "period"},
		{"zero period", map[string]string{"pattern": "burst", "rate": "100", "period": "0s", "burst_length": "2s", "burst_factor": "2"}, "period"},
		{"bad factor", map[string]string{"pattern": "burst", "rate": "100", "period": "10s", "burst_length": "2s", "burst_factor": "x"}, "burst_factor"},
		{"no rate", map[string]string{"pattern": "constant"}, "rate"},
		{"bad step", map[string]string{"pattern": "step", "rate": "100", "step0": "5s-200"}, "step0"},
		{"step before the start", map[string]string{"pattern": "step", "rate": "100", "step0": "-5s=200"}, "times"},
		{"steps out of order", map[string]string{"pattern": "step", "rate": "100", "step0": "5s=200", "step1": "2s=300"}, "time order"},
		{"unknown pattern", map[string]string{"pattern": "sawtooth", "rate": "100"}, "sawtooth"},
	}
	for _, tt := range bad {
		if _, err := LoadFromParams(tt.params); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want one naming %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestRisesIn(t *testing.T) {
	s := time.Second
	const S = int64(time.Second)
	burst := func(length time.Duration, factor float64) Load {
		return Load{Rate: 100, Pattern: PatternBurst, Period: 10 * s, BurstLength: length, BurstFactor: factor}
	}
	down := burst(2*s, 0.5) // the rate steps up as each burst ends: 2, 12, 22 s ...
	huge := Load{Rate: 100, Pattern: PatternBurst, Period: math.MaxInt64 / 2, BurstLength: s, BurstFactor: 0.5}
	steps := Load{Rate: 100, Pattern: PatternStep, Steps: []Step{{5 * s, 200}, {10 * s, 150}, {20 * s, 300}}}
	sameTime := Load{Rate: 100, Pattern: PatternStep, Steps: []Step{{5 * s, 200}, {5 * s, 50}, {8 * s, 60}}}
	tests := []struct {
		name   string
		l      Load
		lo, hi int64
		want   bool
	}{
		{"a burst starts at 0", burst(2*s, 1.5), 0, 1, true},
		{"a burst starts at each period", burst(2*s, 1.5), 10 * S, 10*S + 1, true},
		{"no rise as a burst of factor > 1 ends", burst(2*s, 1.5), 1, 10 * S, false},
		{"before the first end of a burst down", down, 0, 2 * S, false},
		{"the first end", down, 0, 2*S + 1, true},
		{"a later one at lo", down, 12 * S, 12*S + 1, true},
		{"just before a later one", down, 12*S + 1, 22 * S, false},
		{"a later one before hi", down, 12*S + 1, 22*S + 1, true},
		{"a burst of factor 1", burst(2*s, 1), 0, math.MaxInt64, false},
		{"a burst as long as its period", burst(10*s, 2), 0, math.MaxInt64, false},
		{"a step up", steps, 4 * S, 6 * S, true},
		{"a step down only", steps, 9 * S, 11 * S, false},
		{"no step inside", steps, 5*S + 1, 6 * S, false},
		{"the last step at a time sets the rate", sameTime, 0, 8 * S, false},
		{"then up from it", sameTime, 8 * S, 8*S + 1, true},
		{"constant", Load{Rate: 100, Pattern: PatternConstant}, 0, math.MaxInt64, false},
		{"diurnal", Load{Rate: 100, Pattern: PatternDiurnal, Amplitude: 0.3, Period: time.Minute}, 0, math.MaxInt64, false},
		{"a period near the largest offset", huge, 2 * S, math.MaxInt64, true},
		{"up to the second step of a huge period", huge, 2 * S, S + math.MaxInt64/2, false},
	}
	for _, tt := range tests {
		if got := tt.l.RisesIn(tt.lo, tt.hi); got != tt.want {
			t.Errorf("%s: RisesIn(%d, %d) = %v, want %v", tt.name, tt.lo, tt.hi, got, tt.want)
		}
	}
}

// FuzzLoadFromParams: any params read back or give an error, never a
// panic; a burst's RisesIn agrees with walking the rate's rises one period
// at a time.
func FuzzLoadFromParams(f *testing.F) {
	f.Add("burst", "10s", "2s", "1.5", "100", "5s=200", int64(11e9), int64(13e9))
	f.Add("burst", "1ns", "1ns", "2", "100", "", int64(5), int64(6))
	f.Add("burst", "2562047h", "1h", "0.5", "100", "", int64(7200e9), int64(math.MaxInt64))
	f.Add("step", "", "", "", "100", "5s=200", int64(4e9), int64(6e9))
	f.Add("step", "", "", "", "x", "=", int64(0), int64(1))
	f.Add("step", "", "", "", "100", "-5s=200", int64(0), int64(1))
	f.Fuzz(func(t *testing.T, pattern, period, length, factor, rate, step0 string, lo, hi int64) {
		p := map[string]string{"pattern": pattern, "period": period, "burst_length": length, "burst_factor": factor, "rate": rate, "step0": step0}
		l, err := LoadFromParams(p)
		if err != nil || l.Pattern != PatternBurst || lo < 0 || hi <= lo || l.BurstLength == l.Period || l.BurstFactor == 1 {
			return
		}
		P, phase := int64(l.Period), int64(0)
		if l.BurstFactor < 1 {
			phase = int64(l.BurstLength)
		}
		if (hi-phase)/P > 1e5 {
			return
		}
		want := false
		for s := phase; s < hi; s += P {
			if s >= lo {
				want = true
				break
			}
			if s > math.MaxInt64-P {
				break
			}
		}
		if got := l.RisesIn(lo, hi); got != want {
			t.Fatalf("%+v RisesIn(%d, %d) = %v, walking the bursts %v", l, lo, hi, got, want)
		}
	})
}
