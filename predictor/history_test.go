package predictor

import (
	"testing"
	"time"

	"github.com/seer-qos/seer/internal/series"
)

// TestLiveTraces: chunks of consecutive ticks become traces, missing ticks
// read as empty, violations are the runs over the target, and a jump of the
// series clock is shortened to a window of empty ticks instead of filled in.
func TestLiveTraces(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	tk := 100 * time.Millisecond
	at := func(i int, latMs float64) RawTick {
		start := t0.Add(time.Duration(i) * tk)
		return NewRawTick(series.Batch{Start: start, End: start.Add(tk), Samples: []series.Sample{
			{Key: series.Key{Service: "fe", Instance: "i"}, Depth: float64(i), Latency: series.Latency{Count: 1, Sum: time.Duration(latMs * 1e6)}},
			{Key: series.Key{Service: "be", Instance: "i"}, Depth: 1},
		}})
	}
	qos := QoSTarget{Service: "fe", Latency: 50 * time.Millisecond}
	const window = 64
	gap := window // missing ticks: kept
	ticks := []RawTick{at(0, 10), at(1, 60), at(2, 70), at(3+gap, 10), at(4+gap, 60)}
	jump := 5 + gap + 1000 // a thousand more missing than are kept
	ticks = append(ticks, at(jump, 60), at(jump+1, 10))

	trs, err := LiveTraces(ticks, []string{"fe", "be", "gone"}, nil, qos, 1, window)
	if err != nil {
		t.Fatal(err)
	}
	a := trs[0]
	j := 4 + gap + 1 + window // where the tick after the jump lands
	if len(trs) != 1 || a.Dir != "live-0" || a.Ticks != j+2 {
		t.Fatalf("traces %d: %s (%d ticks, want %d)", len(trs), a.Dir, a.Ticks, j+2)
	}
	if a.Services[0] != "be" || a.Raw(2, 1, rawDepth) != 2 || a.Raw(3, 1, rawDepth) != 0 || a.Raw(3+gap, 1, rawDepth) != float32(3+gap) ||
		a.Raw(j, 1, rawDepth) != float32(jump) || a.Raw(j-1, 1, rawDepth) != 0 || a.Raw(0, 2, rawDepth) != 0 {
		t.Fatalf("raw placement: %v %v %v %v", a.Raw(2, 1, rawDepth), a.Raw(3, 1, rawDepth), a.Raw(3+gap, 1, rawDepth), a.Raw(j, 1, rawDepth))
	}
	tick := func(i int) int64 { return t0.Add(time.Duration(i) * tk).UnixNano() }
	if len(a.Violations) != 3 || a.Violations[0].StartNs != tick(1) || a.Violations[0].EndNs != tick(3) ||
		a.Violations[1].StartNs != tick(4+gap) || a.Violations[2].StartNs != tick(j) || a.Violations[2].EndNs != tick(j+1) {
		t.Fatalf("violations %+v", a.Violations)
	}

	trs, err = LiveTraces(ticks[:4], []string{"fe"}, nil, qos, 2, window)
	if err != nil || len(trs) != 2 || trs[0].Dir != "live-0" || trs[1].Dir != "live-1" {
		t.Fatalf("two chunks: %v, %d traces", err, len(trs))
	}
	if _, err := LiveTraces(ticks[:1], []string{"fe"}, nil, qos, 2, window); err == nil {
		t.Fatal("one tick in two chunks: no error")
	}
}
