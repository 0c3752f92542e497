package sim

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/sim/topology"
)

// TestButForAttribution: a load step overloads the only service the
// requests use while a fault acts on a service nobody calls (the window
// rule names it; without it the violation is the same, so but-for drops
// it), and later a CPU fault on the used service alone breaks the target
// (both rules name it).
func TestButForAttribution(t *testing.T) {
	topo := parse(t, `
name: t
network: {latency: 0s}
services:
  - {name: front, workers: 1000, cores: 1, operations: [{name: op, service_time: {dist: exp, mean: 1ms}}]}
  - {name: idle, workers: 10, cores: 1, operations: [{name: op, service_time: {dist: exp, mean: 1ms}}]}
requests: [{name: r, weight: 1, service: front, op: op, qos_p99: 30ms}]
`)
	sec := int64(time.Second)
	faults := []dataset.Fault{
		{ID: "bystander", Kind: dataset.FaultCPU, Service: "idle", StartNs: 2 * sec, DurationNs: 3 * sec, Magnitude: 5},
		{ID: "cause", Kind: dataset.FaultCPU, Service: "front", StartNs: 12 * sec, DurationNs: 3 * sec, Magnitude: 3},
	}
	run := func(attribution string) []dataset.Violation {
		res, err := Run(Config{Topology: topo, Seed: 3, Duration: 20 * time.Second, Attribution: attribution, Faults: faults,
			Load: Load{Rate: 500, Pattern: PatternStep, Steps: []Step{{At: 3 * time.Second, Rate: 1500}, {At: 4 * time.Second, Rate: 500}}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Violations
	}
	named := func(vs []dataset.Violation) map[string]int {
		n := map[string]int{}
		for _, v := range vs {
			for _, id := range v.FaultIDs {
				n[id]++
			}
			if len(v.FaultIDs) == 0 {
				n["unknown"]++
			}
		}
		return n
	}
	window, butFor := run(AttributionWindow), run(AttributionButFor)
	if len(window) == 0 || !slices.EqualFunc(window, butFor, func(a, b dataset.Violation) bool {
		return a.RequestType == b.RequestType && a.StartNs == b.StartNs && a.EndNs == b.EndNs
	}) {
		t.Fatalf("the rules must label the same intervals: window %+v, but-for %+v", window, butFor)
	}
	w, b := named(window), named(butFor)
	t.Logf("window %v, but-for %v", w, b)
	if w["bystander"] == 0 || w["cause"] == 0 {
		t.Fatalf("window rule: %v, want both faults named (the test's premise)", w)
	}
	if b["bystander"] != 0 || b["cause"] != w["cause"] || b["unknown"] != w["unknown"]+w["bystander"] {
		t.Errorf("but-for: %v, want the bystander dropped (its violations unknown) and the cause kept", b)
	}
}

func TestDropIfNotNeeded(t *testing.T) {
	const tick = int64(100 * time.Millisecond)
	v := func(rt string, from, to int64) dataset.Violation {
		return dataset.Violation{RequestType: rt, StartNs: from * tick, EndNs: to * tick, FaultIDs: []string{"f1", "f2"},
			Culprits: []dataset.SeriesKey{{Service: "a"}, {Service: "b"}}, Cause: "fault"}
	}
	tests := []struct {
		name    string
		without []dataset.Violation
		keep    bool
	}{
		{"none without", nil, true},
		{"same interval", []dataset.Violation{v("r", 10, 20)}, false},
		{"half, within a tick", []dataset.Violation{v("r", 16, 30)}, false},
		{"under half", []dataset.Violation{v("r", 17, 30)}, true},
		{"other request type", []dataset.Violation{v("q", 10, 20)}, true},
		{"two pieces", []dataset.Violation{v("r", 9, 12), v("r", 14, 16)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := []dataset.Violation{v("r", 10, 20)}
			dropIfNotNeeded(vs, "f1", tt.without, tick)
			if kept := slices.Contains(vs[0].FaultIDs, "f1"); kept != tt.keep {
				t.Fatalf("f1 kept %v, want %v", kept, tt.keep)
			}
			if !tt.keep && (len(vs[0].FaultIDs) != 1 || vs[0].Culprits[0].Service != "b" || vs[0].Cause != "fault") {
				t.Errorf("after dropping f1: %+v, want f2 and its culprit b left", vs[0])
			}
		})
	}
	vs := []dataset.Violation{v("r", 10, 20)}
	dropIfNotNeeded(vs, "f1", []dataset.Violation{v("r", 10, 20)}, tick)
	dropIfNotNeeded(vs, "f2", []dataset.Violation{v("r", 10, 20)}, tick)
	if len(vs[0].FaultIDs) != 0 || len(vs[0].Culprits) != 0 || vs[0].Cause != "unknown" {
		t.Errorf("with both dropped: %+v, want no faults and cause unknown", vs[0])
	}
}

// TestAttributionWithController: a controlled run defaults to the window
// rule and refuses but-for, which cannot rerun a controller's decisions.
func TestAttributionWithController(t *testing.T) {
	cfg := Config{Topology: socialNetwork(t), Duration: time.Second, Load: Load{Rate: 100}, Controller: &scaler{}}
	if got := cfg.withDefaults().Attribution; got != AttributionWindow {
		t.Errorf("default with a controller: %q, want %q", got, AttributionWindow)
	}
	if got := (&Config{}).withDefaults().Attribution; got != AttributionButFor {
		t.Errorf("default: %q, want %q", got, AttributionButFor)
	}
	cfg.Attribution = AttributionButFor
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "controller") {
		t.Errorf("but-for with a controller: %v, want an error naming the controller", err)
	}
	cfg.Attribution = "guess"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "guess") {
		t.Errorf("unknown attribution: %v, want an error naming it", err)
	}
}

// frontOnly is one service of capacity about 1,000 requests/s with a 30 ms
// p99 target.
func frontOnly(t *testing.T) *topology.Topology {
	return parse(t, `
name: t
network: {latency: 0s}
services:
  - {name: front, workers: 1000, cores: 1, operations: [{name: op, service_time: {dist: exp, mean: 1ms}}]}
requests: [{name: r, weight: 1, service: front, op: op, qos_p99: 30ms}]
`)
}

// TestRerunKeepsTheSample: the but-for rerun draws the same arrivals as
// the run it tests until its zeroed fault would have acted, with spans on
// (trace IDs are drawn per span sent) and a load surge (its magnitude
// bounds the arrival process).
func TestRerunKeepsTheSample(t *testing.T) {
	topo := frontOnly(t)
	sec := int64(time.Second)
	base := Config{Topology: topo, Seed: 4, Duration: 6 * time.Second, Load: Load{Rate: 500},
		Spans:  SpanFunc(func(*Span) error { return nil }),
		Faults: []dataset.Fault{{ID: "surge", Kind: dataset.FaultLoadSurge, StartNs: 4 * sec, DurationNs: sec, Magnitude: 0.8}}}
	arrivals := func(c Config) []float64 {
		var out []float64
		c.OnTick = func(start int64, ss []series.Sample) error {
			if start < DefaultStart+4*sec {
				out = append(out, ss[0].Arrivals)
			}
			return nil
		}
		c.Attribution = AttributionWindow
		if _, err := Run(c); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := arrivals(base)
	got := arrivals(withoutFaults(base.withDefaults(), "surge"))
	if len(want) != 40 || !slices.Equal(want, got) {
		t.Errorf("arrivals per tick before the surge:\n run    %v\n rerun  %v", want, got)
	}
}

// TestButForKeepsFaultsThatEachSuffice: two contentions on one service, each
// enough for the violation, fail the test one by one; without both, the
// violation goes, so both stay its culprits.
func TestButForKeepsFaultsThatEachSuffice(t *testing.T) {
	topo := frontOnly(t)
	sec := int64(time.Second)
	res, err := Run(Config{Topology: topo, Seed: 2, Duration: 8 * time.Second, Load: Load{Rate: 600},
		Faults: []dataset.Fault{
			{ID: "a", Kind: dataset.FaultCPU, Service: "front", StartNs: 2 * sec, DurationNs: 3 * sec, Magnitude: 1},
			{ID: "b", Kind: dataset.FaultCPU, Service: "front", StartNs: 2 * sec, DurationNs: 3 * sec, Magnitude: 1},
		}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range res.Violations {
		if v.StartNs >= DefaultStart+2*sec && v.StartNs < DefaultStart+5*sec {
			found = true
			if !slices.Equal(v.FaultIDs, []string{"a", "b"}) || len(v.Culprits) != 2 || v.Cause != "fault" {
				t.Errorf("violation at %v: faults %v, culprits %v, cause %s; want both faults",
					time.Duration(v.StartNs-DefaultStart), v.FaultIDs, v.Culprits, v.Cause)
			}
		}
	}
	if !found {
		t.Fatalf("no violation while the faults act (the test's premise): %+v", res.Violations)
	}
}

// TestDropIfNotNeededZeroLength: an interval opened at the run's last tick
// (closed at once) is tested over a tick, not dropped for having no length.
func TestDropIfNotNeededZeroLength(t *testing.T) {
	const tick = int64(100 * time.Millisecond)
	v := dataset.Violation{RequestType: "r", StartNs: 50 * tick, EndNs: 50 * tick, FaultIDs: []string{"f1"},
		Culprits: []dataset.SeriesKey{{Service: "a"}}, Cause: "fault"}
	vs := []dataset.Violation{v}
	dropIfNotNeeded(vs, "f1", nil, tick)
	if len(vs[0].FaultIDs) != 1 {
		t.Errorf("zero-length interval with no violation without the fault: %+v, want f1 kept", vs[0])
	}
	vs = []dataset.Violation{v}
	dropIfNotNeeded(vs, "f1", []dataset.Violation{{RequestType: "r", StartNs: 49 * tick, EndNs: 51 * tick}}, tick)
	if len(vs[0].FaultIDs) != 0 {
		t.Errorf("zero-length interval that happens without the fault: %+v, want f1 dropped", vs[0])
	}
}
