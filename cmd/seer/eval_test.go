package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seer-qos/seer/predictor"
)

// TestEvalMatchedFPR trains a tiny model on two short simulated runs and
// checks that seer eval reports Seer at each threshold baseline's
// false-positive rate, at most that rate, in JSON and in the table, and
// that --model m,m (an average) scores as m alone.
func TestEvalMatchedFPR(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and trains")
	}
	data := t.TempDir()
	for i, fault := range []string{
		"kind=cpu,service=post-storage-service,start=8s,ramp=2s,duration=8s,magnitude=6",
		"kind=disk,service=user-mongodb,start=6s,ramp=2s,duration=8s,magnitude=8",
	} {
		if out, err := runSeer(t, "sim", "--seed", string(rune('1'+i)), "--duration", "25s", "--rate", "2000",
			"--out", filepath.Join(data, string(rune('a'+i))), "--fault", fault); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	model := filepath.Join(t.TempDir(), "m")
	if out, err := runSeer(t, "train", "--data", data, "--out", model, "--epochs", "1", "--window", "4",
		"--hidden", "4", "--channels", "2", "--val", "0.5", "--backend", "simplego", "-q"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err := runSeer(t, "eval", "--model", model, "--data", data, "--json", "--backend", "simplego")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var rep predictor.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.MatchedFPR) == 0 {
		t.Fatalf("no matched_fpr in %s", out)
	}
	if _, ok := rep.MatchedFPR[predictor.BaselineReactive]; ok {
		t.Error("matched_fpr has the reactive baseline")
	}
	for name, b := range rep.Baselines {
		if name == predictor.BaselineReactive {
			continue
		}
		m := rep.MatchedFPR[name]
		if m == nil {
			t.Errorf("%s: not matched", name)
			continue
		}
		if m.FalsePositiveRate > b.FalsePositiveRate {
			t.Errorf("%s: seer's false-positive rate %v at threshold %v above the baseline's %v", name, m.FalsePositiveRate, m.Threshold, b.FalsePositiveRate)
		}
	}
	// A model averaged with itself scores as it does alone.
	twice, err := runSeer(t, "eval", "--model", model+","+model, "--data", data, "--json", "--backend", "simplego")
	if err != nil || twice != out {
		t.Errorf("averaged with itself: %v\n%s\nalone:\n%s", err, twice, out)
	}
	table, err := runSeer(t, "eval", "--model", model, "--data", data, "--backend", "simplego")
	if err != nil {
		t.Fatalf("%v\n%s", err, table)
	}
	if !strings.Contains(table, "seer@latency (") {
		t.Errorf("no seer@latency row in\n%s", table)
	}
}

// TestPrintReportByOnset: the table splits the episodes by onset, for Seer
// and each baseline, only when some episode began right after a load step,
// and copes with a report that has no other onsets.
func TestPrintReportByOnset(t *testing.T) {
	m := func(anticipated, violations int) *predictor.Metrics {
		return &predictor.Metrics{Anticipated: anticipated, Violations: violations}
	}
	tests := []struct {
		name          string
		seer, latency map[string]*predictor.Metrics
		want, notWant []string
	}{
		{"no load steps", map[string]*predictor.Metrics{predictor.OnsetOther: m(3, 4)}, map[string]*predictor.Metrics{predictor.OnsetOther: m(2, 4)},
			nil, []string{"seer/other_onsets", "after_load_step"}},
		{"some after a step", map[string]*predictor.Metrics{predictor.OnsetOther: m(3, 3), predictor.OnsetAfterLoadStep: m(0, 1)},
			map[string]*predictor.Metrics{predictor.OnsetOther: m(2, 3), predictor.OnsetAfterLoadStep: m(1, 1)},
			[]string{"seer/other_onsets 3/3", "seer/after_load_step 0/1", "latency_threshold/other_onsets 2/3", "latency_threshold/after_load_step 1/1"}, nil},
		{"all after a step", map[string]*predictor.Metrics{predictor.OnsetAfterLoadStep: m(0, 1)}, nil,
			[]string{"seer/after_load_step"}, []string{"other_onsets"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &predictor.Report{Metrics: predictor.Metrics{ByOnset: tt.seer}, Baselines: map[string]*predictor.Metrics{
				predictor.BaselineLatency: {ByOnset: tt.latency}}}
			var b strings.Builder
			printReport(&b, r)
			var rows []string // each row's name and anticipated/violations
			for _, l := range strings.Split(b.String(), "\n") {
				if f := strings.Fields(l); len(f) > 1 {
					rows = append(rows, f[0]+" "+f[1])
				}
			}
			for _, w := range tt.want {
				if !slices.Contains(rows, w) && !strings.Contains(b.String(), w) {
					t.Errorf("no %q in\n%s", w, b.String())
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(b.String(), w) {
					t.Errorf("%q in\n%s", w, b.String())
				}
			}
		})
	}
}
