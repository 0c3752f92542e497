package main

import (
	"encoding/json"
	"path/filepath"
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
