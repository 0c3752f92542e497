package seerpredictorextension

import (
	"math"
	"testing"
	"time"

	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/predictor"
)

func rawTick(start time.Time, depth map[string]float64) predictor.RawTick {
	b := series.Batch{Start: start, End: start.Add(100 * time.Millisecond)}
	for svc, d := range depth {
		b.Samples = append(b.Samples, series.Sample{Key: series.Key{Service: svc, Instance: "i"}, Depth: d})
	}
	return predictor.NewRawTick(b)
}

func TestHeuristicScoresAServiceAgainstItsOwnPast(t *testing.T) {
	h := newHeuristic(HeuristicConfig{HalfLife: 10 * time.Second, Margin: 3, Warmup: 2 * time.Second})
	t0 := time.Unix(1000, 0)
	score := func(i int, a, b float64) map[string]float32 {
		rt := rawTick(t0.Add(time.Duration(i)*100*time.Millisecond), map[string]float64{"a": a, "b": b})
		svcs, p := h.score(&rt)
		out := map[string]float32{"violation": p[len(svcs)]}
		for j, s := range svcs {
			out[s] = p[j]
		}
		return out
	}
	if p := score(0, 10, 5); p["a"] != 0 || p["violation"] != 0 {
		t.Fatalf("a service warming up scored %v", p)
	}
	for i := 1; i < 300; i++ {
		// b's depth swings widely, a's barely moves
		p := score(i, 10+float64(i%2), 5+20*float64(i%3))
		if i > 100 && (p["a"] > 0.3 || p["b"] > 0.3) {
			t.Fatalf("tick %d: usual depths scored %v", i, p)
		}
	}
	p := score(300, 60, 40)
	if p["a"] < 0.9 {
		t.Errorf("a at 6x its usual depth scored %v", p["a"])
	}
	if p["b"] > 0.5 {
		t.Errorf("b within its usual swing scored %v", p["b"])
	}
	if math.Abs(float64(p["violation"]-max(p["a"], p["b"]))) > 0 {
		t.Errorf("violation %v is not the highest culprit score", p["violation"])
	}
}

// TestHeuristicForgetsGoneServices: a service absent for 20 half-lives is
// forgotten within one more (it warms up again if it returns); one still
// seen is kept.
func TestHeuristicForgetsGoneServices(t *testing.T) {
	h := newHeuristic(HeuristicConfig{HalfLife: time.Second, Margin: 3, Warmup: time.Second})
	t0 := time.Unix(1000, 0)
	for i := range 20 {
		rt := rawTick(t0.Add(time.Duration(i)*100*time.Millisecond), map[string]float64{"a": 1, "old": 1})
		h.score(&rt)
	}
	for i := 20; i < 20+forgetHalfLives*10+10; i++ {
		rt := rawTick(t0.Add(time.Duration(i)*100*time.Millisecond), map[string]float64{"a": 1})
		h.score(&rt)
	}
	if _, ok := h.stats["old"]; ok || h.stats["a"] == nil {
		t.Fatalf("after %d half-lives: services %v", forgetHalfLives, len(h.stats))
	}
}
