package sim

import (
	"math"
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
